package endpoints

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/wait"
)

type jobFunc func(ctx context.Context) error

func (f jobFunc) Run(ctx context.Context) error { return f(ctx) }

// TestRun: the server answers while the job runs, still answers while the
// job flushes after the signal, and is gone once Run returned the job's
// error.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	mux := http.NewServeMux()
	Register(mux, prometheus.NewRegistry(), nil, nil)
	get := func() error {
		resp, err := http.Get("http://" + addr + Healthz)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "ok") {
			return errors.New(string(b))
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	started, flushing := make(chan struct{}), make(chan error)
	stopped := errors.New("flushed")
	job := jobFunc(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		flushing <- get()
		return stopped
	})
	done := make(chan error, 1)
	go func() { done <- Run(ctx, addr, mux, job, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	<-started
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := wait.Until(wctx, 10*time.Millisecond, func(context.Context) error { return get() }); err != nil {
		t.Fatalf("while running: %v", err)
	}
	cancel()
	if err := <-flushing; err != nil {
		t.Errorf("while flushing: %v", err)
	}
	if err := <-done; !errors.Is(err, stopped) {
		t.Errorf("Run returned %v, want the job's error", err)
	}
	if get() == nil {
		t.Error("server still answers after Run returned")
	}

	// A busy address fails before the job starts.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ran := false
	err = Run(context.Background(), busy.Addr().String(), mux, jobFunc(func(context.Context) error { ran = true; return nil }), slog.Default())
	if err == nil || ran {
		t.Errorf("Run on a busy address: %v (job ran: %v)", err, ran)
	}
}
