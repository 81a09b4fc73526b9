// Package endpoints is the one HTTP convention of weir's long-running
// processes (stream, alerts, scheduler): GET /healthz answers 200 while the
// process is alive and working, GET /readyz 200 once it is ready for its
// work, GET /metrics serves Prometheus metrics. Anything else a process
// serves (the scheduler's UI and API, pprof) it adds to the same mux. Run
// is the one run group: a job beside its server, both stopped on signal.
package endpoints

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths of the convention.
const (
	Healthz = "/healthz"
	Readyz  = "/readyz"
	Metrics = "/metrics"
)

// Check reports a problem (an error) or none (nil); nil Checks always pass.
type Check func(ctx context.Context) error

// Register adds the three endpoints to mux. Each check runs with the
// request's context, bounded to two seconds.
func Register(mux *http.ServeMux, reg prometheus.Gatherer, healthy, ready Check) {
	mux.Handle("GET "+Metrics, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET "+Healthz, handler(healthy, "ok", "unhealthy"))
	mux.HandleFunc("GET "+Readyz, handler(ready, "ready", "not ready"))
}

// Public reports whether path is one of the endpoints, which need no
// sign-in (probes and Prometheus do not sign in).
func Public(path string) bool { return path == Healthz || path == Readyz || path == Metrics }

func handler(check Check, ok, bad string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if check != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := check(ctx); err != nil {
				http.Error(w, bad+": "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, ok)
	}
}
