package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"weir/scheduler"
)

// FuzzAPIBodies: any body of the trigger, clear and backfill calls is
// decoded or refused as a bad request; what decodes goes through the pure
// part of the action (params rendered into the tasks, backfill intervals
// listed, capped) without a panic.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range []string{`{}`, `{"params": {"who": "x"}}`, `{"params": {"who": "it's'; DROP TABLE x; --"}, "logical_date": "2026-01-01T00:00:00Z"}`,
		`{"tasks": ["greet"], "downstream": true}`, `{"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "reprocess": "failed"}`,
		`{"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}`, `{"bogus": 1}`, `[`} {
		f.Add([]byte(s))
	}
	d, err := scheduler.Parse("hourly.yaml", []byte(`
id: hourly
schedule: "@hourly"
start_date: 2026-01-01
params: {who: nobody}
tasks:
  - {id: greet, job: task sleep, args: ["--message=hello {{ .Params.who }}"]}
`), scheduler.DefaultJobs())
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var tr TriggerRequest
		if decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &tr) == nil {
			params := map[string]string{}
			for k, v := range d.Params {
				params[k] = v
			}
			for k, v := range tr.Params {
				params[k] = v
			}
			for _, task := range d.Tasks {
				_, _ = task.Render(scheduler.TemplateData{DAGID: d.ID, Params: params, LogicalDate: tr.LogicalDate})
			}
		}
		var cr ClearRequest
		_ = decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &cr)
		var br BackfillRequest
		if decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &br) == nil {
			_, _ = d.BackfillIntervals(br.From, br.To, now)
		}
	})
}

// FuzzWebhook: any body is parsed or refused, never a panic; what parses
// holds only what the store can keep (JSON without NUL), its dedup key
// survives a round trip through Alertmanager's format, and that round trip
// parses again.
func FuzzWebhook(f *testing.F) {
	for _, s := range []string{amBody("firing", alertA), amBody("firing", alertA+","+alertB), amBody("resolved", alertAResolved),
		amBody("firing", ""), `{"version":"4"}`, `null`, `{}`, `[`, amBody("firing", alertA) + " {}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseWebhook(body)
		if err != nil {
			return
		}
		for _, v := range []any{n.GroupLabels, n.CommonLabels, n.CommonAnnotations, n.Alerts} {
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("marshal %v: %v", v, err)
			}
			if bytes.Contains(raw, []byte(`\u0000`)) {
				t.Fatalf("a NUL reached the store: %s", raw)
			}
		}
		w := Webhook{Version: "4", Notification: n}
		w.Alerts = slices.Clone(n.Alerts)
		slices.Reverse(w.Alerts)
		raw, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseWebhook(raw)
		if err != nil {
			t.Fatalf("round trip refused: %v\n%s", err, raw)
		}
		if again.DedupKey != n.DedupKey {
			t.Fatalf("round trip changed the dedup key")
		}
	})
}
