package silver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/endpoints"
	"weir/wait"
)

// FollowConfig tunes follow mode (`weir batch silver --follow`): the
// incremental run, again and again, so silver (and the gold rollups, with
// Then) trail bronze by about Interval plus a run instead of by the
// schedule's five minutes.
type FollowConfig struct {
	// Source is what each run builds (default SourceAll).
	Source string
	// Interval is the pause between the end of one run and the start of
	// the next (default 10s).
	Interval time.Duration
	// Listen is the address of /healthz, /readyz and /metrics (empty: off).
	Listen string
	// Then runs after every run that added rows (or rejects) to silver,
	// with the run's results: the gold refresh. Its error is logged and
	// counted; the next run goes on.
	Then func(ctx context.Context, res []Result) error
}

// DefaultFollowConfig returns follow mode's defaults (the command's flags
// start from them).
func DefaultFollowConfig() FollowConfig {
	return FollowConfig{Source: SourceAll, Interval: 10 * time.Second}
}

// Follower runs a Job's incremental run every Interval until its context
// ends. It adds no bookkeeping of its own: each run is the ordinary run,
// which reads the bronze snapshots after the one every silver table
// records and commits exactly once, so follow mode, a scheduled run and a
// re-run may overlap or alternate freely. A cancelled context (SIGTERM)
// stops the loop between runs: a run that started finishes, commits
// included, before Run returns; a kill -9 mid-run is repaired by the next
// run as for any run.
type Follower struct {
	job *Job
	cfg FollowConfig
	reg *prometheus.Registry
	c   *counters
	// runs counts runs by outcome (ok, failed; then_failed for a failed
	// Then); last is the end time of the last successful run.
	runs  *prometheus.CounterVec
	last  prometheus.Gauge
	lag   prometheus.Gauge
	ready atomic.Bool
	// thenPending: Then failed, so the next step runs it even if its run
	// changed nothing (only the loop's goroutine touches it).
	thenPending bool
}

// NewFollower returns a Follower of job; zero fields of cfg take
// DefaultFollowConfig's values.
func NewFollower(job *Job, cfg FollowConfig) (*Follower, error) {
	d := DefaultFollowConfig()
	if cfg.Source == "" {
		cfg.Source = d.Source
	}
	if cfg.Interval <= 0 {
		cfg.Interval = d.Interval
	}
	if err := ValidateSource(cfg.Source); err != nil {
		return nil, fmt.Errorf("follow: %w", err)
	}
	reg := prometheus.NewRegistry()
	f := &Follower{job: job, cfg: cfg, reg: reg, c: newCounters(reg),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_silver_follow_runs_total",
			Help: "Follow-mode runs by outcome (ok, failed, then_failed)."}, []string{"outcome"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_silver_follow_last_success_timestamp_seconds",
			Help: "End of the last successful follow-mode run (and its Then), Unix seconds."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_silver_follow_run_seconds",
			Help: "Wall time of the last follow-mode run, Then included."}),
	}
	reg.MustRegister(f.runs, f.last, f.lag)
	return f, nil
}

// Handler serves /healthz, /readyz (ready once a run succeeded) and
// /metrics (the run counters summed over the follower's runs).
func (f *Follower) Handler() http.Handler {
	mux := http.NewServeMux()
	endpoints.Register(mux, f.reg, nil, func(context.Context) error {
		if !f.ready.Load() {
			return errors.New("no successful silver run yet")
		}
		return nil
	})
	return mux
}

// errFollowing keeps wait.Until calling: follow mode never finishes.
var errFollowing = errors.New("following bronze")

// Run runs the job every Interval until ctx ends, then returns nil once
// the run in progress (if any) finished. A failed run is logged and
// counted, and the next one retries it.
func (f *Follower) Run(ctx context.Context) error {
	log := f.job.cfg.Log.With("source", f.cfg.Source)
	log.Info("silver follow mode", "interval", f.cfg.Interval)
	err := wait.Until(ctx, f.cfg.Interval, func(ctx context.Context) error {
		// Detached from cancellation: SIGTERM never interrupts a run,
		// the loop stops before the next one.
		f.Once(context.WithoutCancel(ctx))
		return errFollowing
	})
	if ctx.Err() != nil {
		log.Info("silver follow mode stopped")
		return nil
	}
	return err
}

// Once is one follow-mode step: the incremental run, then Then when the
// run changed silver (or the last Then failed). It reports whether both
// succeeded. Not safe for concurrent use (Run calls it in turn).
func (f *Follower) Once(ctx context.Context) bool {
	start := f.job.cfg.Now()
	res, err := f.job.Run(ctx, f.cfg.Source)
	f.c.add(res)
	if err != nil {
		f.runs.WithLabelValues("failed").Inc()
		f.job.cfg.Log.Error("silver follow run failed; the next run retries", "err", err)
		return false
	}
	var changed int64
	for _, r := range res {
		changed += r.Rows + r.Rejects
	}
	if (changed > 0 || f.thenPending) && f.cfg.Then != nil {
		if err := f.cfg.Then(ctx, res); err != nil {
			f.thenPending = true
			f.runs.WithLabelValues("then_failed").Inc()
			f.job.cfg.Log.Error("silver follow: after-run step failed; the next step retries it", "err", err)
			return false
		}
		f.thenPending = false
	}
	end := f.job.cfg.Now()
	f.runs.WithLabelValues("ok").Inc()
	f.last.Set(float64(end.UnixMilli()) / 1000)
	f.lag.Set(end.Sub(start).Seconds())
	f.ready.Store(true)
	return true
}
