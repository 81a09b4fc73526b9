// Package goldtest gives the integration tests of jobs/gold and its
// dashboards DAG runs to read: a real scheduler engine (scheduler/engine)
// runs a DAG of the scheduler's own test jobs (`weir task sleep|fail`) on the
// local stack's scheduler database, the one Trino's "scheduler" catalog
// reads. The jobs are subprocesses of the test binary, which Main turns into
// the job when the engine starts it. Nothing here is a fake; the DAG's rows
// are deleted when the test ends.
package goldtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/config"
	"weir/internal/stacktest"
	"weir/scheduler"
	"weir/scheduler/engine"
	"weir/scheduler/probe"
	"weir/scheduler/store"
)

// roleEnv tells a test binary started by the engine to be the job.
const roleEnv = "WEIR_GOLDTEST_ROLE"

// Main runs the package's tests, or, in a subprocess the engine started,
// `weir task sleep|fail`, and removes the weir binary the tests built
// (stacktest.Run). Call it from TestMain.
func Main(m *testing.M) {
	if os.Getenv(roleEnv) == "job" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := 2
		if len(os.Args) > 1 && os.Args[1] == "task" {
			code = probe.Main(ctx, os.Args[2:], os.Stdout)
		}
		stop()
		os.Exit(code)
	}
	os.Exit(stacktest.Run(m))
}

// Runs are the two runs DAGRuns produced, as the store recorded them.
type Runs struct {
	DAGID string
	// OK succeeded: extract, then load on its first try.
	OK store.Run
	// Failed, created after OK (the DAG's latest run): extract succeeded,
	// load failed on both of its tries (one retry).
	Failed store.Run
}

// dagYAML is the test DAG; fail_until is the try from which load succeeds.
const dagYAML = `
id: %s
description: goldtest runs for the pipeline-health views
schedule: "@manual"
start_date: 2026-01-01
params: {fail_until: "1"}
tasks:
  - {id: extract, job: task sleep, args: ["--duration=10ms"]}
  - id: load
    job: task fail
    args: ["--until-try={{ .Params.fail_until }}"]
    retries: 1
    retry_delay: 100ms
    depends_on: [extract]
`

// DAGRuns runs a fresh DAG (goldtest_<random>) twice through an engine on
// cfg's scheduler database — first to success, then to failure — and
// returns both runs once finished and the engine stopped. It takes a few
// seconds.
func DAGRuns(t testing.TB, cfg config.Config) Runs {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "goldtest_" + hex.EncodeToString(b)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, id+".yaml"), fmt.Appendf(nil, dagYAML, id), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.Scheduler.Database)
	if err != nil {
		t.Fatalf("open scheduler store (is the local stack up?): %v", err)
	}
	defer st.Close()
	t.Cleanup(func() { deleteDAG(t, cfg.Scheduler.Database, id) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(ctx, st, engine.Options{
		DAGDir: dir,
		Binary: exe,
		Env:    []string{roleEnv + "=job"},
		Tick:   50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, bad := e.DAGs(); len(bad) > 0 {
		t.Fatalf("test DAG rejected: %v", bad)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	}()
	run := func(failUntil string) store.Run {
		r, err := engine.Trigger(ctx, st, e.DAG(id), map[string]string{"fail_until": failUntil}, time.Time{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return waitRun(t, st, id, r.RunID, 30*time.Second)
	}
	out := Runs{DAGID: id, OK: run("1"), Failed: run("9")}
	if out.OK.State != scheduler.RunSuccess || out.Failed.State != scheduler.RunFailed {
		t.Fatalf("runs ended %s and %s, want success and failed", out.OK.State, out.Failed.State)
	}
	return out
}

// waitRun polls the store until the run has finished.
func waitRun(t testing.TB, st *store.Store, dag, runID string, timeout time.Duration) store.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := engine.WaitRun(ctx, st, dag, runID, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("run %s/%s: %v after %s", dag, runID, err, timeout)
	}
	return r
}

// deleteDAG removes the DAG's runs (their tasks and tries cascade) and its
// row from the shared scheduler database.
func deleteDAG(t testing.TB, dsn, id string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("delete test DAG %s: %v", id, err)
		return
	}
	defer conn.Close(ctx)
	for _, q := range []string{"DELETE FROM dag_runs WHERE dag_id = $1", "DELETE FROM dags WHERE dag_id = $1"} {
		if _, err := conn.Exec(ctx, q, id); err != nil {
			t.Errorf("delete test DAG %s: %v", id, err)
		}
	}
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
