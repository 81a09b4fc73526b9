//go:build integration

package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/internal/stacktest"
	"weir/scheduler/engine"
	"weir/scheduler/store"
)

// uiFixture is an engine on a fresh schema of the stack's scheduler
// database, running the given DAG files, behind a test HTTP server.
type uiFixture struct {
	st  *store.Store
	e   *engine.Engine
	srv *httptest.Server
	// url is the server's, signed in as operator.
	url string
}

// testAccess is the fixtures' sign-ins.
var testAccess = Access{OperatorPassword: "op-secret", ViewerPassword: "view-secret"}

func newFixture(t *testing.T, files map[string]string) *uiFixture {
	t.Helper()
	return newFixtureOn(t, files, "", testAccess)
}

// newFixtureOn serves the fixture on addr ("": any loopback port) with
// access, so a real Alertmanager of the stack can reach it.
func newFixtureOn(t *testing.T, files map[string]string, addr string, access Access) *uiFixture {
	t.Helper()
	ctx := context.Background()
	dsn := stacktest.SchedulerDSN(t, stacktest.Config(t).Scheduler.Database)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exe, _ := os.Executable()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := engine.New(ctx, st, engine.Options{DAGDir: dir, Binary: exe, Env: []string{"WEIR_TEST_ROLE=weir"},
		Tick: 50 * time.Millisecond, Registerer: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	ui, err := New(e, reg, log, access)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(ui.Handler())
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s (is a weir scheduler or demo running on this stack?): %v", addr, err)
		}
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword(UserOperator, access.OperatorPassword)
	return &uiFixture{st: st, e: e, srv: srv, url: u.String()}
}
