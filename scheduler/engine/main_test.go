package engine

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"weir/scheduler/probe"
	"weir/scheduler/store"
)

// The test binary doubles as the weir binary of the jobs (`task sleep|fail`)
// and as a standalone scheduler process for the crash test, chosen by
// WEIR_TEST_ROLE. Jobs thus run as real subprocesses without building
// cmd/weir.
func TestMain(m *testing.M) {
	switch os.Getenv("WEIR_TEST_ROLE") {
	case "weir":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := 2
		if len(os.Args) > 1 && os.Args[1] == "task" {
			code = probe.Main(ctx, os.Args[2:], os.Stdout)
		}
		stop()
		os.Exit(code)
	case "scheduler":
		os.Exit(runTestScheduler())
	}
	os.Exit(m.Run())
}

// runTestScheduler runs an engine from WEIR_TEST_* variables until SIGTERM.
func runTestScheduler() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := store.Open(ctx, os.Getenv("WEIR_TEST_DSN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	exe, _ := os.Executable()
	grace, _ := time.ParseDuration(os.Getenv("WEIR_TEST_SHUTDOWN_GRACE"))
	e, err := New(ctx, st, Options{
		ShutdownGrace: grace,
		KillGrace:     time.Second,
		DAGDir:        os.Getenv("WEIR_TEST_DAG_DIR"),
		Binary:        exe,
		Env:           []string{"WEIR_TEST_ROLE=weir"},
		ID:            os.Getenv("WEIR_TEST_SCHEDULER_ID"),
		Tick:          100 * time.Millisecond,
		LeaseTTL:      3 * time.Second,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := e.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
