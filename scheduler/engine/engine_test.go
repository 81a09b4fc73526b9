package engine

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"weir/scheduler"
	"weir/scheduler/store"
	"weir/wait"
)

func TestCaptureKeepsTheTail(t *testing.T) {
	c := newCapture(10)
	for i := 0; i < 5; i++ {
		c.Write([]byte("0123456789"))
	}
	c.Write([]byte("bad\x00\xffend"))
	got := c.String()
	if !strings.HasPrefix(got, "[... ") || !strings.HasSuffix(got, "9bad\uFFFDend") {
		t.Errorf("capture = %q", got)
	}
}

func TestRunJobTimeoutKillsProcessGroup(t *testing.T) {
	exe, _ := os.Executable()
	// The timeout fires once the job runs: it prints its first line after
	// installing its SIGTERM handler, and a signal before that kills it
	// outright (a race build on a loaded machine took over 2 s to start).
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	out := newCapture(1 << 16)
	var timedOut atomic.Int64 // UnixNano
	go func() {
		_ = wait.Until(ctx, 20*time.Millisecond, func(context.Context) error {
			if !strings.Contains(out.String(), "task sleep:") {
				return errors.New("job not started")
			}
			return nil
		})
		timedOut.Store(time.Now().UnixNano())
		cancel(errTimeout)
	}()
	code, err := runJob(ctx, exe, []string{"task", "sleep", "--duration=30s"}, append(os.Environ(), "WEIR_TEST_ROLE=weir"), out, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(time.Unix(0, timedOut.Load())); took > 5*time.Second {
		t.Errorf("job ran %s after its timeout", took)
	}
	// SIGTERM reaches the job, which says so and exits 130.
	if code != 130 || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("exit %d, output %q", code, out.String())
	}
	if !errors.Is(context.Cause(ctx), errTimeout) {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}

// TestRunJobCleanExitOnSIGTERM: a job that traps SIGTERM and exits 0
// within its grace ends the try; runJob once waited for a second exit
// that never came, and the scheduler could not stop.
func TestRunJobCleanExitOnSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errTimeout)
	defer cancel()
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		code, err := runJob(ctx, "/bin/sh", []string{"-c", "trap 'exit 0' TERM; sleep 30 & wait"}, os.Environ(), newCapture(1024), 5*time.Second)
		res <- result{code, err}
	}()
	select {
	case r := <-res:
		if r.err != nil || r.code != 0 {
			t.Errorf("exit %d (err %v), want 0", r.code, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runJob did not return after the job exited cleanly on SIGTERM")
	}
}

func TestRunJobExitCodes(t *testing.T) {
	exe, _ := os.Executable()
	env := append(os.Environ(), "WEIR_TEST_ROLE=weir", "WEIR_TRY_NUMBER=1")
	cases := []struct {
		name string
		argv []string
		want int
	}{
		{"success", []string{"task", "sleep", "--duration=1ms"}, 0},
		{"failure", []string{"task", "fail"}, 1},
		{"skip", []string{"task", "fail", "--exit-code=99"}, scheduler.SkipExitCode},
		{"succeeds from try 1", []string{"task", "fail", "--until-try=1"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, err := runJob(context.Background(), exe, c.argv, env, newCapture(1024), time.Second)
			if err != nil || code != c.want {
				t.Errorf("exit %d (err %v), want %d", code, err, c.want)
			}
		})
	}
	if _, err := runJob(context.Background(), "/nonexistent/weir", nil, env, newCapture(1024), time.Second); err == nil {
		t.Error("starting a missing binary did not fail")
	}
}

func TestPickAppliesLimits(t *testing.T) {
	d, err := scheduler.Parse("x.yaml", []byte(`id: d
schedule: "@daily"
start_date: 2026-01-01
max_active_tasks: 3
tasks:
  - {id: a, job: task sleep, pool: trino}
  - {id: b, job: task sleep, pool: trino}
  - {id: c, job: task sleep}
  - {id: d, job: task sleep}
`), scheduler.DefaultJobs())
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{opts: Options{Pools: map[string]int{"trino": 1}}, dags: map[string]*scheduler.DAG{"d": d}}
	cand := func(dag, task string) store.Claim {
		return store.Claim{Run: store.Run{DAGID: dag}, Task: store.TaskInstance{TaskID: task}}
	}
	all := []store.Claim{cand("d", "a"), cand("d", "b"), cand("d", "c"), cand("d", "d"), cand("other", "x")}
	ids := func(cs []store.Claim) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Task.TaskID)
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name string
		busy []store.Busy
		free int
		want string
	}{
		{"pool of one, dag of three", nil, 10, "a,c,d"},
		{"parallelism", nil, 2, "a,c"},
		{"pool busy elsewhere", []store.Busy{{DAGID: "e", Pool: "trino", Count: 1}}, 10, "c,d"},
		{"dag busy", []store.Busy{{DAGID: "d", Pool: "", Count: 2}}, 10, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(e.pick(all, c.busy, c.free)); got != c.want {
				t.Errorf("picked %s, want %s", got, c.want)
			}
		})
	}
}

// TestTaskCounters: what jobs write to TaskMetricsEnv is served summed over
// tries, with dag and task labels, and a non-counter is refused.
func TestTaskCounters(t *testing.T) {
	c := newTaskCounters()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	try := `# HELP weir_silver_rejects_total Rows silver runs sent to silver.rejects.
# TYPE weir_silver_rejects_total counter
weir_silver_rejects_total{source="web_access"} 3
weir_silver_rejects_total{source="app_events"} 1
`
	for i := 0; i < 2; i++ {
		if err := c.add("silver_build", "silver_web_access", strings.NewReader(try)); err != nil {
			t.Fatal(err)
		}
	}
	err := c.add("silver_build", "silver_web_access", strings.NewReader("# TYPE g gauge\ng 1\n"))
	if err == nil || !strings.Contains(err.Error(), "g is not a counter") {
		t.Errorf("a gauge: err %v, want it refused", err)
	}
	want := `# HELP weir_silver_rejects_total Rows silver runs sent to silver.rejects.
# TYPE weir_silver_rejects_total counter
weir_silver_rejects_total{dag="silver_build",source="app_events",task="silver_web_access"} 2
weir_silver_rejects_total{dag="silver_build",source="web_access",task="silver_web_access"} 6
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
