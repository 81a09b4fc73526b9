//go:build integration

package prometheus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"weir/internal/stacktest"
	"weir/services/grafana"
	"weir/services/prometheus"
	"weir/wait"
)

// TestStackPrometheus runs the weir processes at their default addresses
// (stream on no topic, alerts without sinks, a manual-only scheduler without
// DAGs, silver follow mode on namespaces without bronze) and asserts that the stack's Prometheus has every target up. Then a
// Prometheus of the test's own, with the shipped rules whose `for:` is cut
// to 2 s, watches that stream job, which is stopped: WeirStreamDown must
// reach the stack's Alertmanager, and through its routing tree the
// scheduler's webhook.
func TestStackPrometheus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	s := stacktest.Stack(t)
	bin := stacktest.Weir(t)
	empty := t.TempDir()
	stream := start(t, bin, "stream", "--topics", `^weir-prometheus-test\..*`, "--group", "weir-prometheus-test")
	start(t, bin, "alerts", "--job", "prometheus-test", "--reset", "--start-at", "latest", "--sinks", "",
		"--rules", filepath.Join("..", "..", "rules", "alerts.yaml"))
	start(t, bin, "scheduler", "--manual-only", "--dags", empty)
	// Silver follow mode on namespaces without bronze tables: its runs
	// find nothing and write nothing.
	start(t, bin, "batch", "silver", "--follow", "--interval", "1h",
		"--bronze-namespace", "weir_prometheus_test_bronze", "--silver-namespace", "weir_prometheus_test_silver",
		"--archive-namespace", "weir_prometheus_test_archive")
	began := time.Now()

	// Every target of the stack's Prometheus up; the test's processes by a
	// scrape after they started: an earlier process on the same address
	// (another test's) leaves its target "up" until the next scrape.
	ours := map[string]bool{prometheus.JobStream: true, prometheus.JobAlerts: true, prometheus.JobScheduler: true, prometheus.JobFollow: true}
	// Trino: the coordinator over HTTPS with a password; workers (the
	// cluster profile's) over HTTP.
	wantJobs := []string{prometheus.JobStream, prometheus.JobAlerts, prometheus.JobScheduler, prometheus.JobFollow, prometheus.JobMinIO, prometheus.JobMinIOArchive,
		prometheus.JobTrinoCoordinator, prometheus.JobAlertmanager, prometheus.JobPrometheus}
	if len(s.PrometheusTargets().Trino) > 0 {
		wantJobs = append(wantJobs, prometheus.JobTrino)
	}
	promURL := s.PrometheusURL()
	var last string
	err := wait.Until(ctx, time.Second, func(ctx context.Context) error {
		var down []string
		targets, err := activeTargets(ctx, promURL)
		if err != nil {
			return err
		}
		jobs := map[string]bool{}
		for _, tg := range targets {
			jobs[tg.Labels["job"]] = true
			switch {
			case tg.Health != "up":
				down = append(down, fmt.Sprintf("%s %s: %s %s", tg.Labels["job"], tg.ScrapeURL, tg.Health, tg.LastError))
			case ours[tg.Labels["job"]] && tg.LastScrape.Before(began):
				down = append(down, fmt.Sprintf("%s %s: not scraped since the test's processes started", tg.Labels["job"], tg.ScrapeURL))
			}
		}
		for _, j := range wantJobs {
			if !jobs[j] {
				down = append(down, j+": no target")
			}
		}
		if len(down) > 0 {
			last = strings.Join(down, "; ")
			return fmt.Errorf("targets not up: %s", last)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("stack Prometheus %s: %v (last: %s)", promURL, err, last)
	}
	t.Logf("every target of the stack's Prometheus is up")
	checkOpsDashboard(ctx, t, promURL)

	// The test's Prometheus: the shipped rules, faster.
	a, err := s.Install(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := fmt.Sprintf("t%d", time.Now().UnixNano())
	own := s.PrometheusTargets()
	addr := stacktest.FreeAddr(t)
	targets := prometheus.Targets{Stream: own.Stream, Alertmanager: own.Alertmanager, Prometheus: []string{addr}}
	if _, err := prometheus.WriteDir(dir, targets, prometheus.Options{
		ScrapeInterval: time.Second, EvaluationInterval: time.Second,
		ExternalLabels: map[string]string{"weir_test": run},
	}); err != nil {
		t.Fatal(err)
	}
	shortenFor(t, filepath.Join(dir, prometheus.RulesDir), "2s")
	start(t, a.Prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	err = wait.Until(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		targets, err := activeTargets(ctx, "http://"+addr)
		if err != nil {
			return err
		}
		for _, tg := range targets {
			if tg.Labels["job"] == prometheus.JobStream && tg.Health == "up" {
				return nil
			}
		}
		return fmt.Errorf("stream not scraped yet")
	})
	if err != nil {
		t.Fatalf("test Prometheus: %v", err)
	}

	// Stop the stream job: the alert reaches Alertmanager.
	stopped := time.Now()
	stream.Terminate(10 * time.Second)
	amURL := os.Getenv("WEIR_ALERTMANAGER_URL")
	q := url.Values{"filter": {`alertname="WeirStreamDown"`, fmt.Sprintf(`weir_test=%q`, run)}}
	var got []amAlert
	err = wait.Until(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		got = nil
		if err := getJSON(ctx, amURL+"/api/v2/alerts?"+q.Encode(), &got); err != nil {
			return err
		}
		if len(got) == 0 {
			return fmt.Errorf("no WeirStreamDown alert in Alertmanager yet")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("alertmanager %s: %v", amURL, err)
	}
	al := got[0]
	t.Logf("WeirStreamDown in Alertmanager %s after the stream job stopped: %v", time.Since(stopped).Round(100*time.Millisecond), al.Labels)
	for k, v := range map[string]string{"source": "pipeline", "severity": "critical", "component": "stream", "instance": own.Stream[0]} {
		if al.Labels[k] != v {
			t.Errorf("alert label %s = %q, want %q", k, al.Labels[k], v)
		}
	}

	// Alertmanager routes it (source="pipeline", critical) to the webhook
	// of the scheduler started above, which lists it to a viewer.
	notifications := (&url.URL{Scheme: "http", Host: os.Getenv("WEIR_SCHEDULER_LISTEN"), Path: "/api/v1/notifications",
		User: url.UserPassword("viewer", os.Getenv("WEIR_SCHEDULER_VIEWER_PASSWORD"))}).String()
	err = wait.Until(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		var list struct {
			Notifications []struct {
				Receiver string    `json:"receiver"`
				Status   string    `json:"status"`
				Alerts   []amAlert `json:"alerts"`
			} `json:"notifications"`
		}
		if err := getJSON(ctx, notifications, &list); err != nil {
			return err
		}
		for _, n := range list.Notifications {
			for _, a := range n.Alerts {
				if a.Labels["alertname"] == "WeirStreamDown" && a.Labels["weir_test"] == run {
					if n.Receiver != "pipeline-critical" || n.Status != "firing" {
						return wait.Stop(fmt.Errorf("WeirStreamDown reached receiver %s, %s; want pipeline-critical, firing", n.Receiver, n.Status))
					}
					return nil
				}
			}
		}
		return fmt.Errorf("WeirStreamDown not at the scheduler's webhook yet")
	})
	if err != nil {
		t.Fatalf("scheduler webhook: %v", err)
	}
	t.Logf("WeirStreamDown stored by the scheduler's webhook %s after the stream job stopped", time.Since(stopped).Round(100*time.Millisecond))
}

// checkOpsDashboard runs every PromQL query of the operations dashboard
// over the last 15 minutes, as Grafana's data source would: none may fail,
// and each panel returns series unless its description says it is empty
// without traffic (the weir processes here read no topic and run no DAG).
func checkOpsDashboard(ctx context.Context, t *testing.T, promURL string) {
	t.Helper()
	files, err := fs.Glob(grafana.Ops(), "*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("ops dashboards: %v", err)
	}
	type panel struct {
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Interval    string  `json:"interval"` // the panel's min interval
		Panels      []panel `json:"panels"`
		Targets     []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	}
	var queries []query
	for _, f := range files {
		b, err := fs.ReadFile(grafana.Ops(), f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				walk(p.Panels)
				// Grafana's $__rate_interval: four scrape intervals (the
				// panel's min interval where it sets one, else the
				// datasource's 15 s).
				scrape := 15 * time.Second
				if p.Interval != "" {
					if scrape, err = time.ParseDuration(p.Interval); err != nil {
						t.Fatalf("%s %q: interval: %v", f, p.Title, err)
					}
				}
				macros := strings.NewReplacer("$__rate_interval", (4 * scrape).String(), "$__interval", scrape.String(), "$__range", "15m")
				for _, tg := range p.Targets {
					expr := macros.Replace(tg.Expr)
					if strings.Contains(expr, "$") {
						t.Errorf("%s %q %s: unexpanded variable in %s", f, p.Title, tg.RefID, expr)
						continue
					}
					queries = append(queries, query{f, p.Title, tg.RefID, expr, strings.HasPrefix(p.Description, "Empty without traffic: ")})
				}
			}
		}
		walk(d.Panels)
	}

	// A rate needs two scrapes in its window: on a stack started a moment
	// ago a panel may have none yet, so panels without series are asked
	// again until every one has them (or three minutes have passed).
	series := map[string]int{} // panel → series, over its queries
	pending := queries
	asked := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err = wait.Until(waitCtx, 5*time.Second, func(context.Context) error {
		// The range ends on a whole second after now, so that it holds
		// the samples of the scrapes just seen.
		end := time.Now().Truncate(time.Second).Add(time.Second)
		var again []query
		for _, q := range pending {
			v := url.Values{"query": {q.expr}, "start": {fmt.Sprint(end.Add(-15 * time.Minute).Unix())},
				"end": {fmt.Sprint(end.Unix())}, "step": {"15"}}
			var res struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			if err := getJSON(ctx, promURL+"/api/v1/query_range?"+v.Encode(), &res); err != nil {
				t.Errorf("%s %q %s: %v", q.file, q.panel, q.refID, err)
				continue
			}
			series[q.key()] += len(res.Data.Result)
			if len(res.Data.Result) == 0 && !q.mayBeEmpty {
				again = append(again, q)
			}
		}
		// Asked again: the empty queries of panels that no query filled.
		pending = nil
		names := map[string]bool{}
		for _, q := range again {
			if series[q.key()] == 0 {
				pending = append(pending, q)
				names[fmt.Sprintf("%q", q.key())] = true
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("panels without series: %s", strings.Join(slices.Sorted(maps.Keys(names)), ", "))
		}
		return nil
	})
	if err != nil {
		t.Errorf("ops dashboard: %v", err)
	}
	withSeries := 0
	for _, n := range series {
		if n > 0 {
			withSeries++
		}
	}
	t.Logf("ops dashboard: %d PromQL queries ran without error; %d panels returned series (after %s)", len(queries), withSeries, time.Since(asked).Round(time.Second))
}

// query is one PromQL target of an ops panel.
type query struct {
	file, panel, refID, expr string
	mayBeEmpty               bool // the panel says "Empty without traffic: "
}

// key names the panel the query belongs to.
func (q query) key() string { return q.file + " " + q.panel }

type target struct {
	Labels     map[string]string `json:"labels"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
}

func activeTargets(ctx context.Context, base string) ([]target, error) {
	var resp struct {
		Data struct {
			ActiveTargets []target `json:"activeTargets"`
		} `json:"data"`
	}
	if err := getJSON(ctx, base+"/api/v1/targets?state=active", &resp); err != nil {
		return nil, err
	}
	return resp.Data.ActiveTargets, nil
}

type amAlert struct {
	Labels map[string]string `json:"labels"`
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %s: %s", u, res.Status, b)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// shortenFor sets every rule's `for:` in the rule files of dir to d: the
// shipped rules (those promtool tests), only sooner.
func shortenFor(t *testing.T, dir, d string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("rule files in %s: %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string][]map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, g := range doc["groups"] {
			rules, _ := g["rules"].([]any)
			for _, r := range rules {
				if m, ok := r.(map[string]any); ok && m["for"] != nil {
					m["for"] = d
				}
			}
		}
		out, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMain removes the weir binary the test built.
func TestMain(m *testing.M) { stacktest.Main(m) }

// start starts a program in its own process group (stacktest.Start); it
// is killed at the end of the test, the end of its output shown if the
// test failed.
func start(t *testing.T, bin string, args ...string) *stacktest.Process {
	t.Helper()
	return stacktest.Start(t, exec.Command(bin, args...), filepath.Join(t.TempDir(), filepath.Base(bin)+".log"))
}
