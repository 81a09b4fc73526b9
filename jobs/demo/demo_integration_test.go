//go:build integration

package demo

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/internal/stacktest"
	"weir/scheduler"
	"weir/scheduler/store"
	"weir/trino"
)

// TestDemoEndToEnd builds the weir binary and runs the demo path on the
// local stack with a short history: Kafka → stream → bronze → silver_build
// and gold_views DAG runs through a real `weir scheduler` → gold, the alert
// job over the same traffic, and the printed answers. Every section must
// answer (no failed query), within the 5-minute budget; the scheduler's
// store must hold both runs as successful, and gold.pipeline_dag_runs (over
// Trino's scheduler catalog) must show them. The views' correctness against
// the generator is jobs/gold's integration test; this one proves the
// orchestration.
func TestDemoEndToEnd(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	bin := stacktest.Weir(t)
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	d, err := New(Options{
		Binary: bin, Dir: filepath.Join("..", ".."), History: 6 * time.Hour, Rate: 2, AnomalyEvery: time.Hour,
		DAGDir: filepath.Join("..", "..", "dags"), WorkDir: t.TempDir(), Out: &out,
		TrinoURL: cfg.Trino.URL, SchedulerListen: stacktest.FreeAddr(t),
	}, db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := d.Run(ctx); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	took := time.Since(start)
	text := out.String()
	for _, want := range []string{
		"top 10 client IPs", "6 most requested endpoints", "distinct client IPs and days of data",
		"response bytes by status class", "weekday with the most 4xx", "Business · per day",
		"Alerts raised by this demo's alert job", "Orders · closed orders", "Where to look next", "demo finished",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(text, "query failed") {
		t.Errorf("a section's query failed:\n%s", text)
	}
	checkDAGRuns(ctx, t, cfg, db, d.Runs())
	t.Logf("demo took %s\n%s", took.Round(time.Second), text)
}

// checkDAGRuns asserts that the demo ran silver_build, gold_views and
// order_marts in order, that the scheduler's store recorded the runs and all their tasks as
// successful, and that gold.pipeline_dag_runs shows them so.
func checkDAGRuns(ctx context.Context, t *testing.T, cfg config.Config, db *sql.DB, runs []DAGRun) {
	t.Helper()
	if len(runs) != 3 || runs[0].DAGID != "silver_build" || runs[1].DAGID != "gold_views" || runs[2].DAGID != "order_marts" {
		t.Fatalf("demo runs %+v, want silver_build, gold_views, order_marts", runs)
	}
	st, err := store.Open(ctx, cfg.Scheduler.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, want := range runs {
		r, err := st.Run(ctx, want.DAGID, want.Run.RunID)
		if err != nil {
			t.Fatalf("store run %s/%s: %v", want.DAGID, want.Run.RunID, err)
		}
		if r.State != scheduler.RunSuccess || r.RunType != store.RunManual {
			t.Errorf("store: %s/%s is a %s run in state %s, want a manual run in success", r.DAGID, r.RunID, r.RunType, r.State)
		}
		tis, err := st.TaskInstances(ctx, []int64{r.PK})
		if err != nil {
			t.Fatal(err)
		}
		if len(tis[r.PK]) != len(want.Tasks) {
			t.Errorf("store: %s/%s has %d tasks, the demo saw %d", r.DAGID, r.RunID, len(tis[r.PK]), len(want.Tasks))
		}
		for id, ti := range tis[r.PK] {
			if ti.State != scheduler.StateSuccess {
				t.Errorf("store: task %s of %s/%s is %s", id, r.DAGID, r.RunID, ti.State)
			}
		}
		var state string
		var tasks, succeeded int64
		err = db.QueryRowContext(ctx, "SELECT state, tasks, tasks_succeeded FROM gold.pipeline_dag_runs WHERE dag_id = "+
			trino.String(want.DAGID)+" AND run_id = "+trino.String(want.Run.RunID)).Scan(&state, &tasks, &succeeded)
		if err != nil {
			t.Errorf("gold.pipeline_dag_runs: run %s/%s: %v", want.DAGID, want.Run.RunID, err)
			continue
		}
		if state != string(scheduler.RunSuccess) || tasks != int64(len(want.Tasks)) || succeeded != tasks {
			t.Errorf("gold.pipeline_dag_runs: %s/%s state %s, %d of %d tasks succeeded; want success, all %d",
				want.DAGID, want.Run.RunID, state, succeeded, tasks, len(want.Tasks))
		}
	}
}
