package load

import (
	"errors"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	vals := make([]float64, 100)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 50}, {0.95, 95}, {0.99, 99}, {1, 100}, {0, 1}} {
		t.Run("", func(t *testing.T) {
			if got := Percentile(vals, tc.q); got != tc.want {
				t.Errorf("Percentile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	if got := Percentile([]float64{7}, 0.99); got != 7 {
		t.Errorf("single value: %v", got)
	}
}

func TestSummarize(t *testing.T) {
	cfg := Config{Clients: 2, Queries: []Query{{Name: "b"}, {Name: "a"}}}
	samples := []sample{
		{query: 0, ms: 10, rows: 1}, {query: 0, ms: 30, rows: 1}, {query: 0, ms: 20, rows: 1},
		{query: 1, ms: 5, err: errors.New("boom")},
	}
	rep := summarize(cfg, time.Unix(0, 0), 2*time.Second, samples)
	if rep.Queries[0].Name != "a" || rep.Queries[0].Errors != 1 || rep.Queries[0].LastError != "boom" || rep.Queries[0].Runs != 1 {
		t.Errorf("a = %+v", rep.Queries[0])
	}
	b := rep.Queries[1]
	if b.Runs != 3 || b.P50Ms != 20 || b.P99Ms != 30 || b.MeanMs != 20 || b.Rows != 3 {
		t.Errorf("b = %+v", b)
	}
	if rep.Total.Runs != 4 || rep.Total.Errors != 1 || rep.QPS != 2 {
		t.Errorf("total = %+v qps %v", rep.Total, rep.QPS)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no clients", Config{Duration: time.Second, Queries: []Query{{}}}},
		{"no duration", Config{Clients: 1, Queries: []Query{{}}}},
		{"no queries", Config{Clients: 1, Duration: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err == nil {
				t.Error("want error")
			}
		})
	}
}
