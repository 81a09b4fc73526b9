package silver

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestNewFollower(t *testing.T) {
	if _, err := NewFollower(New(nil, Config{}), FollowConfig{Source: "nope"}); err == nil {
		t.Error("NewFollower accepted an unknown source")
	}
	f, err := NewFollower(New(nil, Config{}), FollowConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultFollowConfig(); f.cfg.Source != d.Source || f.cfg.Interval != d.Interval || d.Interval != 10*time.Second {
		t.Errorf("defaults: %+v, want %+v", f.cfg, d)
	}
	// Not ready before a run succeeded; alive all along.
	for path, want := range map[string]int{"/readyz": http.StatusServiceUnavailable, "/healthz": http.StatusOK, "/metrics": http.StatusOK} {
		w := httptest.NewRecorder()
		f.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
}
