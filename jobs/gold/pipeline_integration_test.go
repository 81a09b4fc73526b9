//go:build integration

package gold

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/jobs/generate"
	"weir/jobs/gold/goldtest"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/scheduler/store"
	goldsql "weir/sql/gold"
	"weir/trino"
)

// The test binary doubles as the scheduler's test jobs (goldtest.DAGRuns).
func TestMain(m *testing.M) { goldtest.Main(m) }

// TestPipelineDAGViews runs a DAG twice through a real scheduler engine on
// the stack's scheduler database (one run succeeds, the next fails after a
// retry), applies the views over Trino's "scheduler" catalog to a gold
// schema of its own, and checks their answers against the runs and tries
// the scheduler's store API returns.
func TestPipelineDAGViews(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	db := openTrino(t, cfg)
	runs := goldtest.DAGRuns(t, cfg)

	b := make([]byte, 4)
	_, _ = rand.Read(b)
	// Trino may write only under warehouse/gold* (its S3 policy).
	g := "gold_dags_" + hex.EncodeToString(b)
	t.Cleanup(func() { dropSchema(t, db, cfg.Trino.Catalog, g) })
	all, err := Load(goldsql.FS)
	if err != nil {
		t.Fatal(err)
	}
	var defs []*Definition
	for _, d := range all {
		for _, src := range d.Sources {
			if strings.HasPrefix(src, "scheduler.") {
				defs = append(defs, d)
				break
			}
		}
	}
	for _, d := range all {
		if d.Name == "pipeline_dag_runs_hourly" {
			defs = append(defs, d) // reads gold.pipeline_dag_runs
		}
	}
	if len(defs) != 3 {
		t.Fatalf("want 3 views over the scheduler catalog, got %d", len(defs))
	}
	defs, err = order(defs)
	if err != nil {
		t.Fatal(err)
	}
	runner := &Runner{DB: db, Target: Target{Catalog: cfg.Trino.Catalog, Schemas: map[string]string{"gold": g}}}
	res, err := runner.Apply(ctx, defs)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if s := Summary(res); s[Created] != len(defs) {
		t.Fatalf("apply: %s, want %d created", SummaryLine(res), len(defs))
	}

	st, err := store.Open(ctx, cfg.Scheduler.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, "gold.", g+"."), "$dag", trino.String(runs.DAGID))
	}
	line := func(r store.Run, tasks, succeeded, failed, tries int, latest bool) string {
		return fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d|%v", r.RunID, r.RunType, r.State, tasks, succeeded, failed, tries, latest)
	}
	check(t, db, "pipeline_dag_runs", q(`SELECT run_id, run_type, state, tasks, tasks_succeeded, tasks_failed, tries, latest
		FROM gold.pipeline_dag_runs WHERE dag_id = $dag ORDER BY created_at`), []string{
		line(runs.OK, 2, 2, 0, 2, false),
		line(runs.Failed, 2, 1, 1, 3, true),
	}, true)
	for _, r := range []store.Run{runs.OK, runs.Failed} {
		want := r.EndedAt.Sub(r.StartedAt).Seconds()
		check(t, db, "pipeline_dag_runs duration", q(fmt.Sprintf(`SELECT abs(duration_s - %f) < 0.01, queued_s >= 0
			FROM gold.pipeline_dag_runs WHERE dag_id = $dag AND run_id = %s`, want, trino.String(r.RunID))), []string{"true|true"}, true)
	}
	check(t, db, "pipeline_dag_runs_hourly", q(`SELECT state, sum(runs), max(duration_max_s) > 0
		FROM gold.pipeline_dag_runs_hourly WHERE dag_id = $dag GROUP BY state`), []string{"failed|1|true", "success|1|true"}, false)

	tries, err := st.Tries(ctx, runs.Failed.PK, "load")
	if err != nil {
		t.Fatal(err)
	}
	var wantFailures []string
	for _, tr := range tries {
		if tr.State != "failed" || tr.ExitCode == nil {
			t.Fatalf("load try %d: %s, exit code %v; want failed with exit status", tr.TryNumber, tr.State, tr.ExitCode)
		}
		wantFailures = append(wantFailures, fmt.Sprintf("%s|load|%d|2|%d|%s|failed", runs.Failed.RunID, tr.TryNumber, *tr.ExitCode, tr.Owner))
	}
	if len(wantFailures) != 2 {
		t.Fatalf("load tried %d times, want 2", len(wantFailures))
	}
	check(t, db, "pipeline_task_failures", q(`SELECT run_id, task_id, try_number, max_tries, exit_code, scheduler_id, task_state
		FROM gold.pipeline_task_failures WHERE dag_id = $dag ORDER BY try_number`), wantFailures, true)
}

// TestEventFreshnessFromMetadata: gold.pipeline_event_freshness answers
// from Iceberg metadata (the event time upper bounds in $partitions, no
// data read); on traffic of the last minutes, including late and
// future-dated records, its newest record per bronze and silver table is
// the one a scan of the table finds.
func TestEventFreshnessFromMetadata(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	start := time.Now().UTC().Add(-15 * time.Minute)
	recs, _ := silvertest.Generate(t, start, start.Add(10*time.Minute), 8, generate.DefaultFaults, func(c *generate.Config) { c.Seed = 31 })
	g.Env.LoadBronze(t, recs, time.Now().UTC())
	if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	if _, err := g.runner.Apply(ctx, g.defs); err != nil {
		t.Fatalf("apply: %v", err)
	}
	var scans []string
	for _, s := range []struct{ layer, schema, table, column string }{
		{"bronze", g.Env.NS.Bronze, "web_access", "kafka_ts"}, {"bronze", g.Env.NS.Bronze, "app_events", "kafka_ts"},
		{"bronze", g.Env.NS.Bronze, "app_logs", "kafka_ts"}, {"bronze", g.Env.NS.Bronze, "infra_metrics", "kafka_ts"},
		{"silver", g.Env.NS.Silver, "access_logs", "event_ts"}, {"silver", g.Env.NS.Silver, "events", "event_ts"},
		{"silver", g.Env.NS.Silver, "logs", "event_ts"}, {"silver", g.Env.NS.Silver, "metrics", "event_ts"},
	} {
		scans = append(scans, fmt.Sprintf("SELECT '%s' AS layer, '%s' AS t, max(%s) AS newest FROM %s.%s", s.layer, s.table, s.column, s.schema, s.table))
	}
	check(t, g.db, "pipeline_event_freshness", fmt.Sprintf(`SELECT f.layer, f.table_name, r.newest IS NOT NULL, f.newest_event = r.newest
		FROM %s.pipeline_event_freshness f JOIN (%s) r ON f.layer = r.layer AND f.table_name = r.t`, g.goldSchema, strings.Join(scans, " UNION ALL ")),
		[]string{"bronze|app_events|true|true", "bronze|app_logs|true|true", "bronze|infra_metrics|true|true", "bronze|web_access|true|true",
			"silver|access_logs|true|true", "silver|events|true|true", "silver|logs|true|true", "silver|metrics|true|true"}, false)
}
