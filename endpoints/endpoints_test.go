package endpoints

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_test_total", Help: "test"})
	reg.MustRegister(c)
	ready := errors.New("catching up")
	mux := http.NewServeMux()
	Register(mux, reg, nil, func(context.Context) error { return ready })
	cases := []struct {
		path     string
		status   int
		contains string
	}{
		{Healthz, 200, "ok"},
		{Readyz, 503, "not ready: catching up"},
		{Metrics, 200, "weir_test_total"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) {
				t.Errorf("%s: %d %q, want %d containing %q", c.path, w.Code, w.Body.String(), c.status, c.contains)
			}
		})
	}
	if !Public(Readyz) || Public("/api/v1/dags") {
		t.Error("Public")
	}
}
