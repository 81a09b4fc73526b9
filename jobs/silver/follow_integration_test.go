//go:build integration

package silver_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// TestSilverFollow: `weir batch silver --follow --interval 1s` keeps silver
// up with bronze while bronze grows in three commits (as the stream job
// makes them): each commit's rows reach silver within the interval plus a
// run, and after the last one silver holds exactly what the generator
// summary expects (silver + rejects = bronze, no duplicate). SIGTERM stops
// it cleanly between runs, and a one-shot run afterwards finds nothing
// left to do.
func TestSilverFollow(t *testing.T) {
	env := silvertest.New(t)
	end := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-6*time.Minute), end, 12, faults)
	t.Logf("generated %d records, faults %v", len(recs), sum.FaultCounts)

	const interval = time.Second
	// A run on this shared 2-core machine takes seconds; the bound is the
	// interval plus a generous run.
	const within = interval + 45*time.Second
	listen := stacktest.FreeAddr(t)
	p := stacktest.StartWeir(t, "silver-follow", nil, append([]string{"batch", "silver", "--follow",
		"--interval", interval.String(), "--listen", listen, "--chunk-rows", "2000"}, env.NamespaceArgs()...)...)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + listen + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Ready once a run succeeded (no bronze table yet: nothing to do).
	stacktest.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		code, _ := get("/readyz")
		return code == http.StatusOK, p.Err()
	}, func() string { return "follow mode never became ready" })

	evTable := env.NS.Table(lakehouse.SilverEvents)
	third := len(recs) / 3
	for i, part := range [][]silvertest.Record{recs[:third], recs[third : 2*third], recs[2*third:]} {
		before := env.Count(t, evTable)
		env.LoadBronze(t, part, time.Now())
		loaded := time.Now()
		stacktest.Eventually(t, within, 100*time.Millisecond, func() (bool, error) {
			return env.Count(t, evTable) > before, p.Err()
		}, func() string { return fmt.Sprintf("commit %d: no new silver.events rows %s after it", i+1, within) })
		t.Logf("commit %d: first rows in silver.events after %s", i+1, time.Since(loaded).Round(10*time.Millisecond))
	}
	loaded := time.Now()
	stacktest.Eventually(t, within, 200*time.Millisecond, func() (bool, error) {
		return exact(t, env, sum) == "", p.Err()
	}, func() string { return "silver not exact after the last commit: " + exact(t, env, sum) })
	t.Logf("last commit: silver exact after %s", time.Since(loaded).Round(10*time.Millisecond))

	if _, body := get("/metrics"); !strings.Contains(body, `weir_silver_follow_runs_total{outcome="ok"}`) ||
		!strings.Contains(body, `weir_silver_rows_total{input="app_events"}`) {
		t.Errorf("/metrics lacks the follow-mode counters:\n%s", body)
	}
	p.Stop(t, 60*time.Second)
	if !strings.Contains(p.Output(), "silver follow mode stopped") {
		t.Errorf("no clean stop in the log:\n%s", stacktest.Tail(p.Output(), 2000))
	}

	expect(t, env, sum)
	for _, r := range runAll(t, silver.New(env.Lake, silver.Config{Namespaces: env.NS})) {
		if r.Rows != 0 && r.Source != silver.SourceDims || r.Rejects != 0 || r.Chunks != 0 {
			t.Errorf("a run after follow mode did work: %+v", r)
		}
	}
}

// exact is expect's check as a message ("" when silver matches the
// summary), for polling.
func exact(t *testing.T, env *silvertest.Env, sum *generate.Summary) string {
	t.Helper()
	tables := summaryTables
	var diffs []string
	for topic, ts := range sum.Topics {
		if name, ok := tables[topic]; ok {
			if got := env.Count(t, env.NS.Table(name)); got != ts.SilverRows {
				diffs = append(diffs, fmt.Sprintf("%s %d of %d", name, got, ts.SilverRows))
			}
		}
	}
	if got := env.Count(t, env.NS.Table(lakehouse.SilverRejects)); got != sum.Rejected {
		diffs = append(diffs, fmt.Sprintf("rejects %d of %d", got, sum.Rejected))
	}
	return strings.Join(diffs, ", ")
}
