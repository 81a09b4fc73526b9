package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// Job is a long-running job: Run returns when ctx ends, after a clean
// flush, or earlier with the error that stopped it.
type Job interface {
	Run(ctx context.Context) error
}

// Run is the one run group of weir's long-running processes: it serves h
// on addr (none when addr is empty) beside job.Run, and returns job's
// error once both stopped. A signal cancels ctx: the job flushes and
// returns, then the server shuts down, so probes and scrapes see the job
// until it is gone. A server that fails stops the job.
func Run(ctx context.Context, addr string, h http.Handler, job Job, log *slog.Logger) error {
	if addr == "" {
		return job.Run(ctx)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	var jobErr error
	g.Go(func() error {
		log.Info("endpoints listening", "addr", ln.Addr().String())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
		return nil
	})
	g.Go(func() error {
		jobErr = job.Run(gctx)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
		}
		return nil
	})
	srvErr := g.Wait()
	if jobErr != nil {
		return jobErr
	}
	return srvErr
}
