//go:build integration

package demo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/internal/stacktest"
)

// TestMain removes the weir binary the tests built.
func TestMain(m *testing.M) { stacktest.Main(m) }

// TestFailedRunStopsWithTaskLog runs a real `weir scheduler` on a fresh
// schema of the scheduler database (WEIR_SCHEDULER_DATABASE with a
// search_path, inherited by the subprocess) with a DAG whose second task
// fails on both tries: runDAG must show the failed first try as it happens,
// then fail with the task's captured log.
func TestFailedRunStopsWithTaskLog(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WEIR_SCHEDULER_DATABASE", stacktest.SchedulerDSN(t, cfg.Scheduler.Database))
	dags := t.TempDir()
	err = os.WriteFile(filepath.Join(dags, "broken.yaml"), []byte(`
id: broken
schedule: "@manual"
start_date: 2026-01-01
tasks:
  - {id: first, job: task sleep, args: ["--duration=10ms"]}
  - id: second
    job: task fail
    args: ["--message=the demo must show this line"]
    retries: 1
    retry_delay: 100ms
    depends_on: [first]
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	d, err := New(Options{Binary: stacktest.Weir(t), DAGDir: dags, WorkDir: t.TempDir(), SchedulerListen: stacktest.FreeAddr(t), Out: &out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sched, err := d.startScheduler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sched.stop()
	run, err := d.runDAG(ctx, "broken", sched)
	if err == nil {
		t.Fatalf("runDAG succeeded on a failing DAG:\n%s", out.String())
	}
	for _, want := range []string{"failed", "task second, try 2", "the demo must show this line", "exit status 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if !strings.Contains(out.String(), "! second try 1/2 failed") || !strings.Contains(out.String(), "· first") {
		t.Errorf("output lacks the first task or the failed first try:\n%s", out.String())
	}
	if run.Run.State != "failed" || len(run.Tasks) != 2 || run.Tasks[0].State != "success" || run.Tasks[1].Try != 2 {
		t.Errorf("run %+v", run)
	}
	// The real scheduler serves the Dashboards page the demo points at,
	// to a viewer, with every embedded dashboard linked.
	req, err := http.NewRequest("GET", d.schedulerURL()+"/dashboards/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("viewer", d.opts.SchedulerViewerPassword)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `href="/dashboards/weir-business"`) {
		t.Errorf("GET /dashboards/: %s\n%s", res.Status, page)
	}
	if err := sched.stop(); err != nil {
		t.Errorf("stop scheduler: %v", err)
	}
	t.Logf("output:\n%s\nerror: %v", out.String(), err)
}
