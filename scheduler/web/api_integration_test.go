//go:build integration

package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"weir/scheduler/store"
)

const helloDAG = `
id: hello
description: two tasks for the UI tests
schedule: "@manual"
start_date: 2026-01-01
params: {who: nobody}
tasks:
  - {id: greet, job: task sleep, args: ["--duration=200ms", "--message=hello {{ .Params.who }}"]}
  - {id: wave, job: task sleep, args: ["--duration=100ms"], depends_on: [greet]}
`

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("decode %s: %v", u, err)
		}
	}
	return resp.StatusCode
}

func TestAPIAndPages(t *testing.T) {
	f := newFixture(t, map[string]string{"hello.yaml": helloDAG, "broken.yaml": "id: broken\nschedule: nope\n"})
	base := f.url

	var list DAGList
	if code := getJSON(t, base+"/api/v1/dags", &list); code != 200 || len(list.DAGs) != 1 || len(list.Errors) != 1 {
		t.Fatalf("GET /api/v1/dags: %d %+v", code, list)
	}
	if !strings.Contains(list.Errors[0].Error, "schedule: parse cron expression") {
		t.Errorf("file error %q", list.Errors[0].Error)
	}

	body, _ := json.Marshal(TriggerRequest{Params: map[string]string{"who": "api"}})
	resp, err := http.Post(base+"/api/v1/dags/hello/runs", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var run RunView
	_ = json.NewDecoder(resp.Body).Decode(&run)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(run.RunID, "manual__") {
		t.Fatalf("trigger: %d %+v", resp.StatusCode, run)
	}
	runURL := base + "/api/v1/dags/hello/runs/" + url.PathEscape(run.RunID)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got struct {
			Run RunView `json:"run"`
		}
		getJSON(t, runURL, &got)
		if got.Run.State == "success" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still %s", got.Run.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var tl TaskLog
	if code := getJSON(t, runURL+"/tasks/greet", &tl); code != 200 || len(tl.Tries) != 1 || !strings.Contains(tl.Tries[0].Log, "hello api") {
		t.Errorf("task log: %d %+v", code, tl)
	}
	var detail DAGDetail
	getJSON(t, base+"/api/v1/dags/hello", &detail)
	if len(detail.Runs) != 1 || len(detail.Tasks) != 2 || detail.Tasks[1].Cells[0].State != "success" {
		t.Errorf("grid %+v", detail)
	}

	for _, c := range []struct {
		method, path, body string
		code               int
		contains           string
	}{
		{"GET", "/", "", 200, `id="trigger-hello"`},
		{"GET", "/", "", 200, "Rejected DAG files"},
		{"GET", "/dags/hello", "", 200, `data-state="success"`},
		{"GET", "/dags/hello/runs/" + url.PathEscape(run.RunID) + "/tasks/greet", "", 200, "hello api"},
		{"GET", "/dags/nope", "", 404, "not found"},
		{"GET", "/api/v1/dags/nope", "", 404, `"error"`},
		{"POST", "/api/v1/dags/hello/runs", `{"params": {"typo": "x"}}`, 400, "unknown params typo"},
		{"POST", "/api/v1/dags/hello/runs", `{"bogus": 1}`, 400, "unknown field"},
		{"POST", "/api/v1/dags/hello/runs/" + url.PathEscape(run.RunID) + "/clear", `{"tasks": ["wave"]}`, 200, `"wave"`},
		{"POST", "/api/v1/dags/hello/backfills", `{}`, 400, "has no schedule"},
		{"GET", "/metrics", "", 200, "weir_scheduler_task_tries_total"},
		{"GET", "/healthz", "", 200, "ok"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(b), c.contains) {
				t.Errorf("%d, want %d containing %q; body:\n%.600s", resp.StatusCode, c.code, c.contains, b)
			}
		})
	}

	// Forms redirect back with a banner (post/redirect/get).
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.PostForm(base+"/dags/hello/trigger", url.Values{"param_who": {"form"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/dags/hello?msg=triggered+manual__") {
		t.Errorf("trigger form: %d %s", resp.StatusCode, loc)
	}
	resp, err = client.PostForm(base+"/dags/hello/trigger", url.Values{"param_nope": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=") {
		t.Errorf("bad trigger form redirected to %s", loc)
	}
}

// TestRunsPaged: the DAG page and its API show gridRuns runs at a time,
// newest first, with a cursor to the older ones; following it reaches
// every run once.
func TestRunsPaged(t *testing.T) {
	f := newFixture(t, map[string]string{"daily.yaml": `
id: daily
schedule: "@daily"
start_date: 2026-01-01
tasks:
  - {id: nap, job: task sleep, args: ["--duration=10ms"]}
`})
	body, _ := json.Marshal(BackfillRequest{From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), Reprocess: store.ReprocessNone})
	resp, err := http.Post(f.url+"/api/v1/dags/daily/backfills", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("backfill: %s %s", resp.Status, msg)
	}
	seen := map[string]bool{}
	var pages []int
	next := f.url + "/api/v1/dags/daily"
	for next != "" {
		var d DAGDetail
		if code := getJSON(t, next, &d); code != 200 {
			t.Fatalf("GET %s: %d", next, code)
		}
		pages = append(pages, len(d.Runs))
		for _, r := range d.Runs {
			if seen[r.RunID] {
				t.Errorf("run %s on two pages", r.RunID)
			}
			seen[r.RunID] = true
		}
		next = ""
		if d.Older != 0 {
			next = fmt.Sprintf("%s/api/v1/dags/daily?before=%d", f.url, d.Older)
		}
	}
	backfilled := 0
	for id := range seen {
		if strings.HasPrefix(id, "backfill__") {
			backfilled++
		}
	}
	// 32 backfill runs, and the scheduler's own run of the last interval
	// once it made it.
	if backfilled != 32 || len(pages) != 2 || pages[0] != gridRuns || pages[1] != len(seen)-gridRuns {
		t.Errorf("pages %v, %d runs (%d backfilled); want %d, then the rest, and all 32 backfill runs", pages, len(seen), backfilled, gridRuns)
	}
	if code := getJSON(t, f.url+"/api/v1/dags/daily?before=x", nil); code != 400 {
		t.Errorf("bad cursor: %d, want 400", code)
	}
}
