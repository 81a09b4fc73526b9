// Package load is weir's query workload generator: N concurrent clients
// run a mix of gold queries on Trino for a duration and the latency of every
// query is reported as p50/p95/p99 with error counts (DESIGN §10, issue 3).
//
// Contract:
//   - Each client runs the queries in its own seeded random order (so two
//     clients do not march in step) until the duration ends or ctx is done;
//     every result set is read to the end, as a dashboard would.
//   - A failed query is counted with its error and the client goes on; Run
//     returns an error only when it cannot start.
//   - Percentiles are nearest-rank over every recorded latency.
package load

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"weir/trino"
)

// Query is one named query of the mix.
type Query struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// Config is one workload run.
type Config struct {
	Clients  int
	Duration time.Duration
	// Timeout bounds one query (default 60s).
	Timeout time.Duration
	Queries []Query
	Seed    uint64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	switch {
	case c.Clients < 1 || c.Clients > 1000:
		return fmt.Errorf("load config: clients: %d outside [1, 1000]", c.Clients)
	case c.Duration <= 0:
		return errors.New("load config: duration: must be positive")
	case len(c.Queries) == 0:
		return errors.New("load config: queries: none")
	}
	return nil
}

// Stats are the latencies of one query (or of all, in Report.Total).
type Stats struct {
	Name      string  `json:"name"`
	Runs      int     `json:"runs"`
	Errors    int     `json:"errors"`
	Rows      int64   `json:"rows"`
	P50Ms     float64 `json:"p50_ms"`
	P95Ms     float64 `json:"p95_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	MeanMs    float64 `json:"mean_ms"`
	LastError string  `json:"last_error,omitempty"`
}

// Report is the result of a run.
type Report struct {
	Started   time.Time `json:"started"`
	Clients   int       `json:"clients"`
	DurationS float64   `json:"duration_s"`
	QPS       float64   `json:"queries_per_second"`
	Total     Stats     `json:"total"`
	Queries   []Stats   `json:"queries"`
}

type sample struct {
	query int
	ms    float64
	rows  int64
	err   error
}

// Run executes the workload on db.
func Run(ctx context.Context, db *sql.DB, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	start := now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(cfg.Duration))
	defer cancel()

	var mu sync.Mutex
	var samples []sample
	var wg sync.WaitGroup
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c)))
			order := rng.Perm(len(cfg.Queries))
			for i := 0; ctx.Err() == nil; i++ {
				if i%len(order) == 0 && i > 0 {
					rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
				}
				qi := order[i%len(order)]
				t0 := now()
				rows, err := runQuery(ctx, db, cfg.Queries[qi].SQL, timeout)
				ms := float64(now().Sub(t0)) / float64(time.Millisecond)
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run: not a sample
				}
				mu.Lock()
				samples = append(samples, sample{query: qi, ms: ms, rows: rows, err: err})
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	elapsed := now().Sub(start)
	return summarize(cfg, start, elapsed, samples), nil
}

func runQuery(ctx context.Context, db *sql.DB, query string, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	var n int64
	err = trino.Values(rows, func([]any) error { n++; return nil })
	return n, err
}

func summarize(cfg Config, start time.Time, elapsed time.Duration, samples []sample) Report {
	rep := Report{Started: start.UTC(), Clients: cfg.Clients, DurationS: elapsed.Seconds()}
	per := make([][]sample, len(cfg.Queries))
	for _, s := range samples {
		per[s.query] = append(per[s.query], s)
	}
	for i, q := range cfg.Queries {
		rep.Queries = append(rep.Queries, stats(q.Name, per[i]))
	}
	sort.Slice(rep.Queries, func(i, j int) bool { return rep.Queries[i].Name < rep.Queries[j].Name })
	rep.Total = stats("all", samples)
	if elapsed > 0 {
		rep.QPS = float64(len(samples)) / elapsed.Seconds()
	}
	return rep
}

func stats(name string, samples []sample) Stats {
	st := Stats{Name: name, Runs: len(samples)}
	var ok []float64
	for _, s := range samples {
		if s.err != nil {
			st.Errors++
			st.LastError = s.err.Error()
			continue
		}
		ok = append(ok, s.ms)
		st.Rows += s.rows
	}
	if len(ok) == 0 {
		return st
	}
	slices.Sort(ok)
	sum := 0.0
	for _, v := range ok {
		sum += v
	}
	st.P50Ms = round(Percentile(ok, 0.50))
	st.P95Ms = round(Percentile(ok, 0.95))
	st.P99Ms = round(Percentile(ok, 0.99))
	st.MaxMs = round(ok[len(ok)-1])
	st.MeanMs = round(sum / float64(len(ok)))
	return st
}

// Percentile is the nearest-rank q-quantile of sorted values.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func round(v float64) float64 { return math.Round(v*10) / 10 }
