//go:build integration

package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/scheduler"
	"weir/scheduler/probe"
	"weir/scheduler/store"
)

// testDSN creates a fresh schema in the scheduler database of the local
// stack (config.Load: WEIR_SCHEDULER_DATABASE) and returns a DSN whose
// search_path selects it; the schema is dropped after the test.
func testDSN(t *testing.T) string {
	t.Helper()
	return stacktest.SchedulerDSN(t, stacktest.Config(t).Scheduler.Database)
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// writeDAGs writes name → YAML files into a fresh directory.
func writeDAGs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newEngine(t *testing.T, st *store.Store, dir string, opts Options) *Engine {
	t.Helper()
	exe, _ := os.Executable()
	opts.DAGDir, opts.Binary = dir, exe
	opts.Env = append(opts.Env, "WEIR_TEST_ROLE=weir")
	if opts.Tick == 0 {
		opts.Tick = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e, err := New(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// runEngine runs e until the test ends.
func runEngine(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.Run(ctx); err != nil {
			t.Errorf("engine: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// waitRun polls until the run is finished and returns it with its tasks.
func waitRun(t *testing.T, st *store.Store, dag, runID string, timeout time.Duration) (store.Run, map[string]store.TaskInstance) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r, err := st.Run(context.Background(), dag, runID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State == scheduler.RunSuccess || r.State == scheduler.RunFailed {
			tis, err := st.TaskInstances(context.Background(), []int64{r.PK})
			if err != nil {
				t.Fatal(err)
			}
			return r, tis[r.PK]
		}
		if time.Now().After(deadline) {
			tis, _ := st.TaskInstances(context.Background(), []int64{r.PK})
			t.Fatalf("run %s/%s still %s after %s; tasks %+v", dag, runID, r.State, timeout, tis[r.PK])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readRecords parses a probe --record file.
func readRecords(t *testing.T, path string) []probe.Record {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []probe.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r probe.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

var _ = io.Discard
