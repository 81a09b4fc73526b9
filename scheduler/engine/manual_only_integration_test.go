//go:build integration

package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"weir/scheduler"
)

// TestManualOnlyCreatesNoScheduledRuns: a ManualOnly engine leaves a due
// cron interval alone (no run, cursor unmoved) but runs a triggered run.
func TestManualOnlyCreatesNoScheduledRuns(t *testing.T) {
	st := openStore(t, testDSN(t))
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	dir := writeDAGs(t, map[string]string{"five.yaml": fmt.Sprintf(`
id: five
schedule: "*/5 * * * *"
start_date: 2026-01-01T10:00:00Z
catchup: false
tasks:
  - {id: a, job: task sleep, args: ["--duration=1ms", "--record=%s"]}
`, rec)})
	clk := &clock{t: time.Date(2026, 1, 1, 10, 17, 0, 0, time.UTC)}
	e := newEngine(t, st, dir, Options{Now: clk.Now, ManualOnly: true})
	ctx := context.Background()
	for range 3 {
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if runs, err := st.Runs(ctx, "five", 10); err != nil || len(runs) != 0 {
		t.Fatalf("manual-only engine created %d runs (err %v), want none", len(runs), err)
	}
	if rows, err := st.DAGRows(ctx); err != nil || !rows["five"].NextLogicalDate.IsZero() {
		t.Fatalf("schedule cursor %v (err %v), want none", rows["five"].NextLogicalDate, err)
	}
	r, err := Trigger(ctx, st, e.DAG("five"), nil, time.Time{}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := st.Run(ctx, "five", r.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == scheduler.RunSuccess {
			break
		}
		if got.State == scheduler.RunFailed || time.Now().After(deadline) {
			t.Fatalf("triggered run is %s", got.State)
		}
		time.Sleep(30 * time.Millisecond)
	}
	runs, err := st.Runs(ctx, "five", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].RunID != r.RunID {
		t.Errorf("runs %v, want only the triggered %s", runs, r.RunID)
	}
}
