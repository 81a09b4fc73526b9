package silver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/config"
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
	// Listen is the address of /healthz, /readyz and /metrics (empty:
	// off; default config.FollowListen shifted by the stack's port
	// offset, where the native stack's Prometheus scrapes it).
	Listen string
	// Then runs after runs that added rows (or rejects) to silver: the
	// gold refresh. It runs beside the silver loop, never holding it up;
	// runs that end while it works make it due once more. A failed Then is
	// logged, counted and retried after Interval.
	Then func(ctx context.Context) error
}

// DefaultFollowConfig returns follow mode's defaults (the command's flags
// start from them).
func DefaultFollowConfig() FollowConfig {
	return FollowConfig{Source: SourceAll, Interval: 10 * time.Second, Listen: config.StackListen(config.FollowListen)}
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
	// thenDue holds a token while Then is due (buffer 1).
	thenDue chan struct{}
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
	f := &Follower{job: job, cfg: cfg, reg: reg, c: newCounters(reg), thenDue: make(chan struct{}, 1),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_silver_follow_runs_total",
			Help: "Follow-mode silver runs by outcome (ok, failed) and after-run steps (then_ok, then_failed)."}, []string{"outcome"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_silver_follow_last_success_timestamp_seconds",
			Help: "End of the last successful follow-mode silver run, Unix seconds."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_silver_follow_run_seconds",
			Help: "Wall time of the last successful follow-mode silver run."}),
	}
	interval := prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_silver_follow_interval_seconds",
		Help: "The pause between follow-mode silver runs (--interval): the rules judge staleness by it."})
	interval.Set(cfg.Interval.Seconds())
	reg.MustRegister(f.runs, f.last, f.lag, interval)
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
// the run in progress (if any) and Then in progress finished. A failed run
// is logged and counted, and the next one retries it. Then runs in a loop
// of its own, so a slow gold refresh never holds silver back: after each
// run that changed silver it is due, and it runs as soon as the previous
// one ended (runs meanwhile collapse into one).
func (f *Follower) Run(ctx context.Context) error {
	log := f.job.cfg.Log.With("source", f.cfg.Source)
	log.Info("silver follow mode", "interval", f.cfg.Interval)
	var wg sync.WaitGroup
	if f.cfg.Then != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.thenLoop(ctx)
		}()
	}
	err := wait.Until(ctx, f.cfg.Interval, func(ctx context.Context) error {
		// Detached from cancellation: SIGTERM never interrupts a run,
		// the loop stops before the next one.
		f.once(context.WithoutCancel(ctx))
		return errFollowing
	})
	wg.Wait()
	if ctx.Err() != nil {
		log.Info("silver follow mode stopped")
		return nil
	}
	return err
}

// once is one silver run; when it changed silver, Then is due.
func (f *Follower) once(ctx context.Context) {
	start := f.job.cfg.Now()
	res, err := f.job.Run(ctx, f.cfg.Source)
	f.c.add(res)
	if err != nil {
		f.runs.WithLabelValues("failed").Inc()
		f.job.cfg.Log.Error("silver follow run failed; the next run retries", "err", err)
		return
	}
	var changed int64
	for _, r := range res {
		changed += r.Rows + r.Rejects
	}
	if changed > 0 {
		f.due()
	}
	end := f.job.cfg.Now()
	f.runs.WithLabelValues("ok").Inc()
	f.last.Set(float64(end.UnixMilli()) / 1000)
	f.lag.Set(end.Sub(start).Seconds())
	f.ready.Store(true)
}

// due marks Then due (at most one pending).
func (f *Follower) due() {
	select {
	case f.thenDue <- struct{}{}:
	default:
	}
}

// thenLoop runs Then each time it is due, until ctx ends; a Then in
// progress finishes first. A failed Then is due again after Interval.
func (f *Follower) thenLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.thenDue:
		}
		if err := f.cfg.Then(context.WithoutCancel(ctx)); err != nil {
			f.runs.WithLabelValues("then_failed").Inc()
			f.job.cfg.Log.Error("silver follow: after-run step failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(f.cfg.Interval):
			}
			f.due()
			continue
		}
		f.runs.WithLabelValues("then_ok").Inc()
	}
}
