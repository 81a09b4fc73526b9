//go:build integration

package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/scheduler"
	"weir/scheduler/probe"
	"weir/scheduler/store"
)

// TestTwoSchedulersNeverStartATaskTwice runs two engines on one database
// and checks every task of several runs ran exactly once, by both engines.
func TestTwoSchedulersNeverStartATaskTwice(t *testing.T) {
	dsn := testDSN(t)
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	var tasks strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&tasks, "  - {id: t%02d, job: task sleep, args: [\"--duration=100ms\", \"--record=%s\"]}\n", i, rec)
	}
	dir := writeDAGs(t, map[string]string{"wide.yaml": `
id: wide
schedule: "@manual"
start_date: 2026-01-01
max_active_runs: 3
tasks:
` + tasks.String()})
	st1, st2 := openStore(t, dsn), openStore(t, dsn)
	e1 := newEngine(t, st1, dir, Options{ID: "one", Parallelism: 4, Tick: 20 * time.Millisecond})
	e2 := newEngine(t, st2, dir, Options{ID: "two", Parallelism: 4, Tick: 20 * time.Millisecond})
	runEngine(t, e1)
	runEngine(t, e2)

	ctx := context.Background()
	var runs []store.Run
	for i := 0; i < 3; i++ {
		r, err := Trigger(ctx, st1, e1.DAG("wide"), nil, time.Now().Add(time.Duration(i)*time.Millisecond), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	owners := map[string]int{}
	for _, r := range runs {
		run, tis := waitRun(t, st1, "wide", r.RunID, 60*time.Second)
		if run.State != scheduler.RunSuccess {
			t.Errorf("run %s %s", r.RunID, run.State)
		}
		for id, ti := range tis {
			tries, err := st1.Tries(ctx, run.PK, id)
			if err != nil {
				t.Fatal(err)
			}
			if ti.TryNumber != 1 || len(tries) != 1 {
				t.Errorf("%s/%s: %d tries", r.RunID, id, len(tries))
			}
			for _, tr := range tries {
				owners[tr.Owner]++
			}
		}
	}
	counts := map[string]int{}
	for _, r := range readRecords(t, rec) {
		counts[r.RunID+"/"+r.Task+"/"+r.Event]++
	}
	if len(counts) != 3*12*2 {
		t.Errorf("%d distinct start/end records, want %d", len(counts), 3*12*2)
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s recorded %d times", k, n)
		}
	}
	if owners["one"] == 0 || owners["two"] == 0 {
		t.Errorf("tries per scheduler %v: both should have worked", owners)
	}
}

// startScheduler starts the test binary as a standalone scheduler process.
func startScheduler(t *testing.T, dsn, dir, id string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "WEIR_TEST_ROLE=scheduler", "WEIR_TEST_DSN="+dsn, "WEIR_TEST_DAG_DIR="+dir,
		"WEIR_TEST_SCHEDULER_ID="+id)
	cmd.Env = append(cmd.Env, extraEnv...)
	logf, err := os.Create(filepath.Join(t.TempDir(), id+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("scheduler %s log:\n%s", id, b)
		}
	})
	return cmd
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// state is the field after the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	stacktest.Eventually(t, timeout, 50*time.Millisecond, func() (bool, error) { return cond(), nil },
		func() string { return "timed out waiting for " + what })
}

func startsOf(recs []probe.Record, task string) []probe.Record {
	var out []probe.Record
	for _, r := range recs {
		if r.Task == task && r.Event == "start" {
			out = append(out, r)
		}
	}
	return out
}

// TestSchedulerKilledMidRun SIGKILLs a scheduler process while its tasks
// run, restarts one, and checks that no task is lost, the killed tries died
// with their scheduler before being retried, and every task completed
// exactly once — without using up its (zero) retries.
func TestSchedulerKilledMidRun(t *testing.T) {
	dsn := testDSN(t)
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	dir := writeDAGs(t, map[string]string{"crash.yaml": fmt.Sprintf(`
id: crash
schedule: "@manual"
start_date: 2026-01-01
tasks:
  - {id: a, job: task sleep, args: ["--duration=3s", "--record=%[1]s"]}
  - {id: c, job: task sleep, args: ["--duration=3s", "--record=%[1]s"]}
  - {id: b, job: task sleep, args: ["--duration=200ms", "--record=%[1]s"], depends_on: [a]}
`, rec)})
	st := openStore(t, dsn)
	first := startScheduler(t, dsn, dir, "first")
	ctx := context.Background()
	d, err := scheduler.LoadFile(filepath.Join(dir, "crash.yaml"), scheduler.DefaultJobs())
	if err != nil {
		t.Fatal(err)
	}
	// The scheduler process records the DAG on start; wait for it.
	waitFor(t, "dag registered", 10*time.Second, func() bool {
		rows, err := st.DAGRows(ctx)
		return err == nil && rows["crash"].ID == "crash"
	})
	r, err := Trigger(ctx, st, d, nil, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a and c started", 10*time.Second, func() bool {
		recs := readRecords(t, rec)
		return len(startsOf(recs, "a")) == 1 && len(startsOf(recs, "c")) == 1
	})
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt := time.Now()
	for _, task := range []string{"a", "c"} {
		pid := startsOf(readRecords(t, rec), task)[0].PID
		waitFor(t, fmt.Sprintf("job %s (pid %d) to die with its scheduler", task, pid), 2*time.Second, func() bool { return !alive(pid) })
	}

	startScheduler(t, dsn, dir, "second")
	run, tis := waitRun(t, st, "crash", r.RunID, 30*time.Second)
	if run.State != scheduler.RunSuccess {
		t.Fatalf("run %s after restart", run.State)
	}
	recs := readRecords(t, rec)
	for _, task := range []string{"a", "b", "c"} {
		ends := 0
		for _, r := range recs {
			if r.Task == task && r.Event == "end" {
				ends++
			}
		}
		if ends != 1 {
			t.Errorf("%s completed %d times, want 1", task, ends)
		}
		tries, err := st.Tries(ctx, run.PK, task)
		if err != nil {
			t.Fatal(err)
		}
		wantTries := 2
		if task == "b" {
			wantTries = 1
		}
		if len(tries) != wantTries || tries[len(tries)-1].State != "success" || tries[len(tries)-1].Owner != "second" {
			t.Errorf("%s tries %+v", task, tries)
			continue
		}
		if task != "b" {
			if tries[0].Owner != "first" || !strings.Contains(tries[0].Error, "lease expired") {
				t.Errorf("%s first try %+v", task, tries[0])
			}
			if s := startsOf(recs, task); len(s) != 2 || s[1].At.Before(killedAt) {
				t.Errorf("%s retried before its first try died: %+v", task, s)
			}
		}
		if ti := tis[task]; ti.LostTries != wantTries-1 {
			t.Errorf("%s lost tries %d", task, ti.LostTries)
		}
	}
}

// TestCleanShutdownHandsTriesBack stops a scheduler with SIGTERM while a
// long task runs: after the grace period the try is stopped and re-queued
// without using a retry, and the next scheduler completes it.
func TestCleanShutdownHandsTriesBack(t *testing.T) {
	dsn := testDSN(t)
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	dir := writeDAGs(t, map[string]string{"long.yaml": fmt.Sprintf(`
id: long
schedule: "@manual"
start_date: 2026-01-01
tasks:
  - {id: long, job: task sleep, args: ["--duration=2s", "--record=%s"]}
`, rec)})
	st := openStore(t, dsn)
	first := startScheduler(t, dsn, dir, "first", "WEIR_TEST_SHUTDOWN_GRACE=200ms")
	ctx := context.Background()
	d, _ := scheduler.LoadFile(filepath.Join(dir, "long.yaml"), scheduler.DefaultJobs())
	waitFor(t, "dag registered", 10*time.Second, func() bool {
		rows, err := st.DAGRows(ctx)
		return err == nil && rows["long"].ID == "long"
	})
	r, err := Trigger(ctx, st, d, nil, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "task started", 10*time.Second, func() bool { return len(startsOf(readRecords(t, rec), "long")) == 1 })
	_ = first.Process.Signal(syscall.SIGTERM)
	if err := first.Wait(); err != nil {
		t.Fatalf("scheduler exit: %v", err)
	}
	run, _ := st.Run(ctx, "long", r.RunID)
	tis, _ := st.TaskInstances(ctx, []int64{run.PK})
	if ti := tis[run.PK]["long"]; ti.State != scheduler.StateQueued || ti.MaxTries != 2 {
		t.Fatalf("after shutdown: %+v", ti)
	}
	startScheduler(t, dsn, dir, "second")
	run, tis2 := waitRun(t, st, "long", r.RunID, 20*time.Second)
	if run.State != scheduler.RunSuccess || tis2["long"].TryNumber != 2 {
		t.Errorf("run %s, tries %d", run.State, tis2["long"].TryNumber)
	}
}
