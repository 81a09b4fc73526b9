package web

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"weir/scheduler/probe"
)

// The test binary doubles as the weir binary of the jobs the UI tests run.
func TestMain(m *testing.M) {
	if os.Getenv("WEIR_TEST_ROLE") == "weir" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		code := 2
		if len(os.Args) > 1 && os.Args[1] == "task" {
			code = probe.Main(ctx, os.Args[2:], os.Stdout)
		}
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
