//go:build integration

package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/scheduler"
	"weir/scheduler/store"
	"weir/trino"
)

// TestRunThroughRealJobs triggers a DAG whose tasks are real subprocesses:
// dependencies, a retry with backoff that then succeeds, a skip that
// propagates, a failure that propagates, params and the data interval in the
// environment, logs captured per try.
func TestRunThroughRealJobs(t *testing.T) {
	st := openStore(t, testDSN(t))
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	dir := writeDAGs(t, map[string]string{"flow.yaml": fmt.Sprintf(`
id: flow
schedule: "0 */6 * * *"
start_date: 2026-01-01
params: {who: nobody}
default_args: {retry_delay: 300ms, retry_exponential_backoff: true, max_retry_delay: 1s}
tasks:
  - {id: extract, job: task sleep, args: ["--duration=10ms", "--record=%[1]s", "--message=hello {{ .Params.who }}"]}
  - {id: flaky, job: task fail, args: ["--until-try=3", "--record=%[1]s"], retries: 3, depends_on: [extract]}
  - {id: load, job: task sleep, args: ["--duration=10ms", "--record=%[1]s"], depends_on: [flaky]}
  - {id: nothing_to_do, job: task fail, args: ["--exit-code=99"], depends_on: [extract]}
  - {id: after_skip, job: task sleep, depends_on: [nothing_to_do]}
  - {id: broken, job: task fail, depends_on: [extract]}
  - {id: after_broken, job: task sleep, depends_on: [broken]}
`, rec)})
	e := newEngine(t, st, dir, Options{})
	ctx := context.Background()
	if err := st.SetPaused(ctx, "flow", true); err != nil { // manual runs only
		t.Fatal(err)
	}
	runEngine(t, e)

	logical := time.Date(2026, 3, 4, 13, 20, 0, 0, time.UTC)
	r, err := Trigger(ctx, st, e.DAG("flow"), map[string]string{"who": "weir"}, logical, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Trigger(ctx, st, e.DAG("flow"), map[string]string{"typo": "x"}, time.Time{}, time.Now()); err == nil ||
		!strings.Contains(err.Error(), "unknown params typo") {
		t.Errorf("trigger with an undeclared param: %v", err)
	}
	run, tis := waitRun(t, st, "flow", r.RunID, 30*time.Second)
	want := map[string]struct {
		state scheduler.State
		tries int
	}{
		"extract": {scheduler.StateSuccess, 1}, "flaky": {scheduler.StateSuccess, 3}, "load": {scheduler.StateSuccess, 1},
		"nothing_to_do": {scheduler.StateSkipped, 1}, "after_skip": {scheduler.StateSkipped, 0},
		"broken": {scheduler.StateFailed, 1}, "after_broken": {scheduler.StateUpstreamFailed, 0},
	}
	if run.State != scheduler.RunFailed {
		t.Errorf("run state %s, want failed (broken failed)", run.State)
	}
	for id, w := range want {
		if ti := tis[id]; ti.State != w.state || ti.TryNumber != w.tries {
			t.Errorf("%s: %s after %d tries, want %s after %d", id, ti.State, ti.TryNumber, w.state, w.tries)
		}
	}

	tries, err := st.Tries(ctx, run.PK, "flaky")
	if err != nil {
		t.Fatal(err)
	}
	if len(tries) != 3 || tries[0].State != "failed" || tries[2].State != "success" {
		t.Fatalf("flaky tries %+v", tries)
	}
	// Backoff: 300ms then 600ms between tries.
	for i, min := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond} {
		if gap := tries[i+1].StartedAt.Sub(tries[i].EndedAt); gap < min-50*time.Millisecond {
			t.Errorf("gap before try %d: %s, want >= %s", i+2, gap, min)
		}
	}
	if !strings.Contains(tries[0].Log, "failing on purpose") || !strings.Contains(tries[2].Log, "done") {
		t.Errorf("logs not captured per try: %q / %q", tries[0].Log, tries[2].Log)
	}
	extract, _ := st.Tries(ctx, run.PK, "extract")
	if !strings.Contains(extract[0].Log, "hello weir") || !strings.Contains(extract[0].Log, "interval=[2026-03-04T06:00:00Z, 2026-03-04T12:00:00Z)") {
		t.Errorf("extract log %q lacks params or interval", extract[0].Log)
	}
	for _, r := range readRecords(t, rec) {
		if r.IntervalStart != "2026-03-04T06:00:00Z" || r.IntervalEnd != "2026-03-04T12:00:00Z" || r.RunID != run.RunID {
			t.Errorf("job saw %+v", r)
		}
	}
}

// TestScheduleCatchupWithInjectedClock drives scheduled runs with a clock
// the test moves: catchup of missed intervals bounded by max_active_runs,
// nothing before an interval ends, and each job told its interval.
func TestScheduleCatchupWithInjectedClock(t *testing.T) {
	st := openStore(t, testDSN(t))
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	dir := writeDAGs(t, map[string]string{"five.yaml": fmt.Sprintf(`
id: five
schedule: "*/5 * * * *"
start_date: 2026-01-01T10:00:00Z
catchup: true
max_active_runs: 2
tasks:
  - {id: a, job: task sleep, args: ["--duration=1ms", "--record=%s"]}
`, rec)})
	clk := &clock{t: time.Date(2026, 1, 1, 10, 17, 0, 0, time.UTC)}
	e := newEngine(t, st, dir, Options{Now: clk.Now})
	ctx := context.Background()

	settle := func(wantRuns int) []store.Run {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if err := e.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			runs, err := st.Runs(ctx, "five", 100)
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			for _, r := range runs {
				if r.State == scheduler.RunSuccess {
					done++
				}
			}
			if done == len(runs) && len(runs) == wantRuns {
				return runs
			}
			if len(runs) > wantRuns {
				t.Fatalf("%d runs, want %d", len(runs), wantRuns)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d runs (%d done), want %d done", len(runs), done, wantRuns)
			}
			time.Sleep(30 * time.Millisecond)
		}
	}
	// First tick: only max_active_runs (2) of the 3 missed intervals exist.
	if err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if runs, _ := st.Runs(ctx, "five", 100); len(runs) != 2 {
		t.Fatalf("first tick created %d runs, want 2 (max_active_runs)", len(runs))
	}
	runs := settle(3)
	if runs[0].RunID != "scheduled__2026-01-01T10:10:00Z" || runs[2].RunID != "scheduled__2026-01-01T10:00:00Z" {
		t.Errorf("runs %s .. %s", runs[0].RunID, runs[2].RunID)
	}
	clk.Set(time.Date(2026, 1, 1, 10, 19, 59, 0, time.UTC))
	settle(3) // 10:15–10:20 has not ended
	clk.Set(time.Date(2026, 1, 1, 10, 20, 0, 0, time.UTC))
	runs = settle(4)
	if got := runs[0].Interval; !got.Start.Equal(time.Date(2026, 1, 1, 10, 15, 0, 0, time.UTC)) || !got.End.Equal(clk.Now()) {
		t.Errorf("latest interval %v", got)
	}
	starts := map[string]bool{}
	for _, r := range readRecords(t, rec) {
		if r.Event == "start" {
			starts[r.IntervalStart+"/"+r.IntervalEnd] = true
		}
	}
	for _, want := range []string{"2026-01-01T10:00:00Z/2026-01-01T10:05:00Z", "2026-01-01T10:15:00Z/2026-01-01T10:20:00Z"} {
		if !starts[want] {
			t.Errorf("no job saw interval %s (saw %v)", want, starts)
		}
	}
}

func TestTimeoutFailsTheTry(t *testing.T) {
	st := openStore(t, testDSN(t))
	dir := writeDAGs(t, map[string]string{"slow.yaml": `
id: slow
schedule: "@manual"
start_date: 2026-01-01
tasks:
  - {id: slow, job: task sleep, args: ["--duration=60s"], timeout: 500ms}
`})
	e := newEngine(t, st, dir, Options{KillGrace: 500 * time.Millisecond})
	runEngine(t, e)
	r, err := Trigger(context.Background(), st, e.DAG("slow"), nil, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run, tis := waitRun(t, st, "slow", r.RunID, 15*time.Second)
	tries, _ := st.Tries(context.Background(), run.PK, "slow")
	if tis["slow"].State != scheduler.StateFailed || len(tries) != 1 || !strings.Contains(tries[0].Error, "timed out after 500ms") {
		t.Fatalf("state %s, tries %+v", tis["slow"].State, tries)
	}
	if d := tries[0].EndedAt.Sub(tries[0].StartedAt); d > 5*time.Second {
		t.Errorf("timed-out try took %s", d)
	}
}

// TestBackfillReprocessAndClear backfills a range, re-runs it in each
// reprocess mode, and clears one task with its downstream.
func TestBackfillReprocessAndClear(t *testing.T) {
	st := openStore(t, testDSN(t))
	dir := writeDAGs(t, map[string]string{"daily.yaml": `
id: daily
schedule: "@daily"
start_date: 2026-01-01
max_active_runs: 2
tasks:
  - {id: a, job: task sleep, args: ["--duration=1ms"]}
  - {id: b, job: task sleep, args: ["--duration=1ms"], depends_on: [a]}
  - {id: c, job: task sleep, args: ["--duration=1ms"], depends_on: [b]}
`})
	e := newEngine(t, st, dir, Options{})
	ctx := context.Background()
	if err := st.SetPaused(ctx, "daily", true); err != nil { // only the backfill runs
		t.Fatal(err)
	}
	runEngine(t, e)
	d := e.DAG("daily")
	from, to := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)
	b, err := Backfill(ctx, st, d, from, to, store.ReprocessNone, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 4 {
		t.Fatalf("backfill total %d, want 4", b.Total)
	}
	var seen []string
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	b, err = WaitBackfill(wctx, st, b.ID, 100*time.Millisecond, func(p store.Backfill) {
		seen = append(seen, fmt.Sprintf("%d/%d", p.Success+p.Failed, p.Total))
	})
	if err != nil || b.Success != 4 {
		t.Fatalf("backfill %+v: %v", b, err)
	}
	if len(seen) < 2 || seen[len(seen)-1] != "4/4" {
		t.Errorf("progress %v", seen)
	}

	for _, c := range []struct {
		mode  string
		total int
	}{{store.ReprocessNone, 0}, {store.ReprocessFailed, 0}, {store.ReprocessAll, 4}} {
		b, err := Backfill(ctx, st, d, from, to, c.mode, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if b.Total != c.total {
			t.Errorf("reprocess %s: total %d, want %d", c.mode, b.Total, c.total)
		}
		if b, err = WaitBackfill(wctx, st, b.ID, 100*time.Millisecond, func(store.Backfill) {}); err != nil || b.Success != c.total {
			t.Fatalf("reprocess %s: %+v %v", c.mode, b, err)
		}
	}
	runID := "backfill__2026-02-03T00:00:00Z"
	run, tis := waitRun(t, st, "daily", runID, time.Second)
	if tis["a"].TryNumber != 2 || run.BackfillID == 0 {
		t.Fatalf("reprocess all did not re-run: %+v", tis["a"])
	}

	cleared, err := Clear(ctx, st, d, runID, []string{"b"}, true)
	if err != nil || strings.Join(cleared, ",") != "b,c" {
		t.Fatalf("clear: %v %v", cleared, err)
	}
	run, tis = waitRun(t, st, "daily", runID, 20*time.Second)
	if run.State != scheduler.RunSuccess || tis["a"].TryNumber != 2 || tis["b"].TryNumber != 3 || tis["c"].TryNumber != 3 {
		t.Errorf("after clear: %s a=%d b=%d c=%d", run.State, tis["a"].TryNumber, tis["b"].TryNumber, tis["c"].TryNumber)
	}
}

// TestSQLTaskOnTrino runs a templated SQL file on the stack's Trino.
func TestSQLTaskOnTrino(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, testDSN(t))
	dir := writeDAGs(t, map[string]string{
		"check.sql": "-- two statements, the data interval as literals\nSELECT 1 AS one;\n" +
			"SELECT count(*) AS n FROM (VALUES 1, 2, 3) AS t(x) WHERE {{ sqlts .DataIntervalStart }} < {{ sqlts .DataIntervalEnd }};\n",
		"bad.sql": "SELECT no_such_column FROM (VALUES 1) AS t(x)",
		"sql.yaml": `
id: sql
schedule: "@daily"
start_date: 2026-01-01
tasks:
  - {id: check, sql: check.sql}
  - {id: bad, sql: bad.sql}
`})
	dsn, err := trino.DSN(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, st, dir, Options{TrinoDSN: dsn})
	ctx := context.Background()
	if err := st.SetPaused(ctx, "sql", true); err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	r, err := Trigger(ctx, st, e.DAG("sql"), nil, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run, tis := waitRun(t, st, "sql", r.RunID, 60*time.Second)
	if tis["check"].State != scheduler.StateSuccess || tis["bad"].State != scheduler.StateFailed {
		tries, _ := st.Tries(ctx, run.PK, "check")
		t.Fatalf("check %s, bad %s; check tries %+v", tis["check"].State, tis["bad"].State, tries)
	}
	tries, _ := st.Tries(ctx, run.PK, "check")
	if log := tries[0].Log; !strings.Contains(log, "n\n3\n") || !strings.Contains(log, "statement 2 of 2") {
		t.Errorf("check log %q", log)
	}
	bad, _ := st.Tries(ctx, run.PK, "bad")
	if !strings.Contains(bad[0].Error, "no_such_column") {
		t.Errorf("bad error %q", bad[0].Error)
	}
}
