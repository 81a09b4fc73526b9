// Package engine runs weir's DAGs: it loads the DAG files, creates runs on
// their schedules, starts ready tasks as subprocesses of the weir binary (or
// SQL scripts on Trino), and records everything in scheduler/store. It also
// implements the operator actions — trigger, clear, backfill — shared by the
// CLI and the web UI.
//
// Contract: several engines may run on one database. Per-DAG bookkeeping is
// serialized by an advisory lock, tasks are claimed with leases, and a try's
// result is written only by its lease owner. A scheduler that dies takes its
// subprocesses with it (parent-death signal); its leases expire and another
// engine (or itself, restarted) re-queues the tasks. Run returns when its
// context is cancelled, after running tries finished or, past the shutdown
// grace, were stopped and handed back to the queue.
package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/scheduler"
	"weir/scheduler/store"
	"weir/trino"
)

// Options configure an Engine. Zero values take the documented defaults.
type Options struct {
	DAGDir string
	Jobs   []scheduler.Job // default scheduler.DefaultJobs()
	// Binary is the weir executable jobs run as; default os.Executable().
	Binary string
	// Env is added to the environment of every job.
	Env []string
	// TrinoDSN is the DSN (trino.DSN) SQL tasks run on; empty: SQL tasks fail.
	TrinoDSN string
	Now      func() time.Time // default time.Now
	ID       string           // scheduler id; default host-pid-random
	// Tick is the pause between scheduling passes (default 1s).
	Tick time.Duration
	// LeaseTTL is how long a try stays ours without a renewal (default 30s);
	// renewals happen every third of it.
	LeaseTTL time.Duration
	// Parallelism caps the tries running in this scheduler (default 8).
	Parallelism int
	// Pools caps running tries per pool across schedulers; a pool missing
	// here is unlimited.
	Pools map[string]int
	// ManualOnly creates no scheduled runs (the DAGs' cron schedules are
	// off in this scheduler; their cursors do not move): it runs triggered
	// runs, backfills and runs already queued. For a scheduler started for
	// a one-off job, such as weir demo.
	ManualOnly bool
	// ReloadEvery is how often the DAG directory is re-read (default 10s).
	ReloadEvery time.Duration
	// ShutdownGrace is how long Run waits for running tries after its context
	// ends before stopping them (default 30s).
	ShutdownGrace time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL of a job that timed
	// out or is stopped (default 5s).
	KillGrace  time.Duration
	LogLimit   int // bytes of output kept per try (default 1 MiB)
	Logger     *slog.Logger
	Registerer prometheus.Registerer // default: a private registry
}

// Engine schedules and runs DAGs. Create it with New.
type Engine struct {
	opts    Options
	store   *store.Store
	trino   *sql.DB
	log     *slog.Logger
	metrics *metrics
	started time.Time
	host    string

	mu       sync.Mutex
	dags     map[string]*scheduler.DAG
	order    []string
	fileErrs []scheduler.FileError
	loadedAt time.Time
	running  map[store.TryKey]*try
	closing  bool
	lastTick time.Time // end of the last pass without error
	wg       sync.WaitGroup

	outcomesAt time.Time // when the outcome metrics were last refreshed
}

// outcomesEvery is how often the last success and failure of every task
// are read from the store for the metrics.
const outcomesEvery = 30 * time.Second

// try is a running try of this scheduler.
type try struct {
	claim    store.Claim
	out      *capture
	cancel   context.CancelCauseFunc
	renewed  time.Time
	finished chan struct{}
}

var (
	errTimeout   = errors.New("task timed out")
	errLeaseLost = errors.New("lease lost")
	errShutdown  = errors.New("scheduler shutting down")
)

// DefaultOptions returns the defaults New gives zero fields (the
// scheduler's flags start from them).
func DefaultOptions() Options {
	return Options{
		Tick:          time.Second,
		LeaseTTL:      30 * time.Second,
		ReloadEvery:   10 * time.Second,
		ShutdownGrace: 30 * time.Second,
		KillGrace:     5 * time.Second,
		Parallelism:   8,
		LogLimit:      1 << 20,
	}
}

// New validates opts, loads the DAG directory once (a missing directory is an
// error; bad files are not) and returns an engine ready to Run.
func New(ctx context.Context, st *store.Store, opts Options) (*Engine, error) {
	if opts.Jobs == nil {
		opts.Jobs = scheduler.DefaultJobs()
	}
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find weir binary: %w", err)
		}
		opts.Binary = exe
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	host, _ := os.Hostname()
	if opts.ID == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		opts.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	def := DefaultOptions()
	setDefault(&opts.Tick, def.Tick)
	setDefault(&opts.LeaseTTL, def.LeaseTTL)
	setDefault(&opts.ReloadEvery, def.ReloadEvery)
	setDefault(&opts.ShutdownGrace, def.ShutdownGrace)
	setDefault(&opts.KillGrace, def.KillGrace)
	if opts.Parallelism <= 0 {
		opts.Parallelism = def.Parallelism
	}
	if opts.LogLimit <= 0 {
		opts.LogLimit = def.LogLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	e := &Engine{
		opts:    opts,
		store:   st,
		log:     opts.Logger.With("scheduler", opts.ID),
		metrics: newMetrics(opts.Registerer),
		host:    host,
		running: map[store.TryKey]*try{},
	}
	if opts.TrinoDSN != "" {
		db, err := trino.OpenDSN(opts.TrinoDSN)
		if err != nil {
			return nil, err
		}
		e.trino = db
	}
	if err := e.reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// ID returns the scheduler's id (the lease owner name).
func (e *Engine) ID() string { return e.opts.ID }

// Store returns the engine's store.
func (e *Engine) Store() *store.Store { return e.store }

// Now returns the engine's clock reading.
func (e *Engine) Now() time.Time { return e.opts.Now() }

// DAGs returns the loaded DAGs in file order and the files that failed.
func (e *Engine) DAGs() ([]*scheduler.DAG, []scheduler.FileError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*scheduler.DAG, 0, len(e.order))
	for _, id := range e.order {
		out = append(out, e.dags[id])
	}
	return out, append([]scheduler.FileError(nil), e.fileErrs...)
}

// Healthy reports an error unless a scheduling pass succeeded within the
// last ten ticks (and 30s).
func (e *Engine) Healthy() error {
	e.mu.Lock()
	last := e.lastTick
	e.mu.Unlock()
	limit := 10 * e.opts.Tick
	if limit < 30*time.Second {
		limit = 30 * time.Second
	}
	if last.IsZero() {
		return errors.New("no scheduling pass yet")
	}
	if age := e.opts.Now().Sub(last); age > limit {
		return fmt.Errorf("last good scheduling pass %s ago", age.Round(time.Second))
	}
	return nil
}

// DAG returns a loaded DAG by id, or nil.
func (e *Engine) DAG(id string) *scheduler.DAG {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dags[id]
}

// reload re-reads the DAG directory and records the DAGs in the store. A DAG
// whose file turned bad keeps its last good version until the file is fixed,
// so a typo does not stop a production schedule.
func (e *Engine) reload(ctx context.Context) error {
	dags, bad, err := scheduler.LoadDir(e.opts.DAGDir, e.opts.Jobs)
	if err != nil {
		return err
	}
	now := e.opts.Now()
	for _, f := range bad {
		e.log.Warn("dag file rejected", "file", f.File, "err", f.Err)
	}
	next := map[string]*scheduler.DAG{}
	var order []string
	for _, d := range dags {
		if err := e.store.UpsertDAG(ctx, store.DAGRow{ID: d.ID, File: d.File, Description: d.Description, Schedule: d.Schedule}, now); err != nil {
			return err
		}
		next[d.ID] = d
		order = append(order, d.ID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range bad {
		for id, old := range e.dags {
			if old.File == f.File && next[id] == nil {
				next[id] = old
				order = append(order, id)
			}
		}
	}
	e.dags, e.order, e.fileErrs, e.loadedAt = next, order, bad, now
	e.metrics.dagsLoaded.Set(float64(len(dags)))
	e.metrics.dagErrors.Set(float64(len(bad)))
	return nil
}

// Run schedules until ctx is cancelled, then shuts down cleanly.
func (e *Engine) Run(ctx context.Context) error {
	e.started = e.opts.Now()
	e.log.Info("scheduler started", "dag_dir", e.opts.DAGDir, "parallelism", e.opts.Parallelism, "manual_only", e.opts.ManualOnly)
	renewDone := make(chan struct{})
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(renewDone)
		e.renewLoop(renewCtx)
	}()

	ticker := time.NewTicker(e.opts.Tick)
	defer ticker.Stop()
	for {
		if err := e.Tick(ctx); err != nil && ctx.Err() == nil {
			e.metrics.tickErrors.Inc()
			e.log.Error("scheduling pass", "err", err)
		}
		select {
		case <-ctx.Done():
			e.shutdown()
			stopRenew()
			<-renewDone
			bg, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := e.store.RemoveScheduler(bg, e.opts.ID, e.opts.Now(), time.Hour); err != nil {
				e.log.Warn("remove scheduler entry", "err", err)
			}
			e.log.Info("scheduler stopped")
			return nil
		case <-ticker.C:
		}
	}
}

// shutdown stops claiming, waits up to ShutdownGrace for running tries, then
// stops the rest; they are handed back to the queue without using a retry.
func (e *Engine) shutdown() {
	e.mu.Lock()
	e.closing = true
	n := len(e.running)
	e.mu.Unlock()
	if n > 0 {
		e.log.Info("waiting for running tries", "count", n, "grace", e.opts.ShutdownGrace)
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(e.opts.ShutdownGrace):
	}
	e.mu.Lock()
	for _, t := range e.running {
		t.cancel(errShutdown)
	}
	e.mu.Unlock()
	<-done
}

// Tick is one scheduling pass: reload DAG files when due, heartbeat, reap
// expired leases, create and advance runs, claim and start ready tasks.
func (e *Engine) Tick(ctx context.Context) error {
	start := time.Now()
	defer func() { e.metrics.tick.Observe(time.Since(start).Seconds()) }()
	now := e.opts.Now()
	e.mu.Lock()
	reload := now.Sub(e.loadedAt) >= e.opts.ReloadEvery
	closing := e.closing
	e.mu.Unlock()
	var errs []error
	if reload {
		// Keep scheduling the DAGs already loaded if the directory cannot
		// be read right now; retry at the next reload time.
		if err := e.reload(ctx); err != nil {
			e.mu.Lock()
			e.loadedAt = now
			e.mu.Unlock()
			errs = append(errs, err)
		}
	}
	if err := e.store.Heartbeat(ctx, e.opts.ID, e.host, os.Getpid(), e.started, now); err != nil {
		return err
	}
	reaped, err := e.store.Reap(ctx, now)
	if err != nil {
		return err
	}
	for _, t := range reaped {
		e.metrics.reaped.Inc()
		e.log.Warn("took back try of a silent scheduler", "run_pk", t.RunPK, "task", t.TaskID, "try", t.TryNumber,
			"owner", t.LeaseOwner, "state", t.State)
	}
	dags, _ := e.DAGs()
	for _, d := range dags {
		if err := e.advance(ctx, d, now); err != nil {
			errs = append(errs, fmt.Errorf("dag %s: %w", d.ID, err))
		}
	}
	if !closing {
		if err := e.claimAndStart(ctx, now); err != nil {
			errs = append(errs, err)
		}
	}
	if counts, err := e.store.LiveTaskCounts(ctx); err == nil {
		e.metrics.tasks.Reset()
		for dag, byState := range counts {
			for st, n := range byState {
				e.metrics.tasks.WithLabelValues(dag, string(st)).Set(float64(n))
			}
		}
	}
	if now.Sub(e.outcomesAt) >= outcomesEvery {
		if err := e.refreshOutcomes(ctx, dags, now); err != nil {
			errs = append(errs, err)
		} else {
			e.outcomesAt = now
		}
	}
	if len(errs) == 0 {
		e.metrics.heartbeat.Set(float64(now.UnixNano()) / 1e9)
		e.mu.Lock()
		e.lastTick = now
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// refreshOutcomes sets the freshness series of the loaded DAGs: each task's
// last success and failure, and each scheduled DAG's period, from which the
// pipeline rules tell a stale silver or gold, or a failing maintenance.
func (e *Engine) refreshOutcomes(ctx context.Context, dags []*scheduler.DAG, now time.Time) error {
	outcomes, err := e.store.TaskOutcomes(ctx)
	if err != nil {
		return err
	}
	rows, err := e.store.DAGRows(ctx)
	if err != nil {
		return err
	}
	loaded := map[string]bool{}
	e.metrics.period.Reset()
	for _, d := range dags {
		loaded[d.ID] = true
		if p := d.Period(now); p > 0 && !e.opts.ManualOnly && !rows[d.ID].Paused {
			e.metrics.period.WithLabelValues(d.ID).Set(p.Seconds())
		}
	}
	e.metrics.lastSuccess.Reset()
	e.metrics.lastFailure.Reset()
	for _, o := range outcomes {
		if !loaded[o.DAGID] {
			continue
		}
		if !o.LastSuccess.IsZero() {
			e.metrics.lastSuccess.WithLabelValues(o.DAGID, o.TaskID).Set(float64(o.LastSuccess.UnixNano()) / 1e9)
		}
		if !o.LastFails.IsZero() {
			e.metrics.lastFailure.WithLabelValues(o.DAGID, o.TaskID).Set(float64(o.LastFails.UnixNano()) / 1e9)
		}
	}
	return nil
}

// advance does a DAG's bookkeeping under its lock: create due scheduled
// runs, start queued runs up to max_active_runs, move waiting tasks along
// their dependencies, and finish runs whose tasks are all done.
func (e *Engine) advance(ctx context.Context, d *scheduler.DAG, now time.Time) error {
	_, err := e.store.WithDAGLock(ctx, d.ID, func(tx *store.DAGTx) error {
		cursor, paused, err := tx.Cursor(ctx)
		if err != nil {
			return err
		}
		active := []scheduler.RunState{scheduler.RunQueued, scheduler.RunRunning}
		if !paused && !d.Manual() && !e.opts.ManualOnly {
			n, err := tx.CountRuns(ctx, active, store.RunScheduled)
			if err != nil {
				return err
			}
			ivs, next := d.DueIntervals(cursor, now, d.MaxActiveRuns-n)
			for _, iv := range ivs {
				r := store.Run{DAGID: d.ID, RunID: "scheduled__" + iv.Start.Format(time.RFC3339), RunType: store.RunScheduled,
					LogicalDate: iv.Start, Interval: iv, Params: d.Params}
				created, err := tx.InsertRun(ctx, r, now)
				if err != nil {
					return err
				}
				if created {
					e.metrics.runsCreated.WithLabelValues(d.ID, store.RunScheduled).Inc()
					e.log.Info("run created", "dag", d.ID, "run_id", r.RunID)
				}
			}
			if !next.Equal(cursor) {
				if err := tx.SetCursor(ctx, next); err != nil {
					return err
				}
			}
		}
		n, err := tx.CountRuns(ctx, []scheduler.RunState{scheduler.RunRunning})
		if err != nil {
			return err
		}
		queued, err := tx.QueuedRuns(ctx, d.MaxActiveRuns-n)
		if err != nil {
			return err
		}
		tasks := newTasks(d)
		for _, r := range queued {
			if err := tx.StartRun(ctx, r.PK, tasks, now); err != nil {
				return err
			}
			e.log.Info("run started", "dag", d.ID, "run_id", r.RunID)
		}
		runs, err := tx.RunningRuns(ctx)
		if err != nil {
			return err
		}
		for _, r := range runs {
			states, err := tx.TaskStates(ctx, r.PK)
			if err != nil {
				return err
			}
			if len(states) < len(d.Tasks) {
				// The DAG gained tasks since the run started.
				if err := tx.StartRun(ctx, r.PK, tasks, now); err != nil {
					return err
				}
				if states, err = tx.TaskStates(ctx, r.PK); err != nil {
					return err
				}
			}
			changes := d.Resolve(states)
			if err := tx.ResolveTasks(ctx, r.PK, changes, now); err != nil {
				return err
			}
			for id, st := range changes {
				states[id] = st
			}
			if outcome, done := d.Outcome(states); done {
				if err := tx.FinishRun(ctx, r.PK, outcome, now); err != nil {
					return err
				}
				e.metrics.runsFinished.WithLabelValues(d.ID, string(outcome)).Inc()
				e.log.Info("run finished", "dag", d.ID, "run_id", r.RunID, "state", outcome)
			}
		}
		return nil
	})
	return err
}

func newTasks(d *scheduler.DAG) []store.NewTask {
	out := make([]store.NewTask, len(d.Tasks))
	for i, t := range d.Tasks {
		out[i] = store.NewTask{TaskID: t.ID, MaxTries: t.Retries + 1, Priority: t.Index, Pool: t.Pool}
	}
	return out
}

// claimAndStart claims as many ready tasks as the limits allow and starts them.
func (e *Engine) claimAndStart(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	free := e.opts.Parallelism - len(e.running)
	e.mu.Unlock()
	if free <= 0 {
		return nil
	}
	claims, err := e.store.Claim(ctx, e.opts.ID, now, e.opts.LeaseTTL, func(cands []store.Claim, busy []store.Busy) []store.Claim {
		return e.pick(cands, busy, free)
	})
	if err != nil {
		return err
	}
	for _, c := range claims {
		e.start(c)
	}
	return nil
}

// pick applies parallelism, max_active_tasks and pool slots to candidates
// in priority order. Tasks of DAGs this scheduler has not loaded (or that
// lost the task) are left for a scheduler that has.
func (e *Engine) pick(cands []store.Claim, busy []store.Busy, free int) []store.Claim {
	perDAG, perPool := map[string]int{}, map[string]int{}
	for _, b := range busy {
		perDAG[b.DAGID] += b.Count
		perPool[b.Pool] += b.Count
	}
	var out []store.Claim
	for _, c := range cands {
		if len(out) == free {
			break
		}
		d := e.DAG(c.Run.DAGID)
		if d == nil || d.Task(c.Task.TaskID) == nil {
			continue
		}
		if perDAG[d.ID] >= d.MaxActiveTasks {
			continue
		}
		pool := d.Task(c.Task.TaskID).Pool
		if slots, ok := e.opts.Pools[pool]; ok && pool != "" && perPool[pool] >= slots {
			continue
		}
		perDAG[d.ID]++
		perPool[pool]++
		out = append(out, c)
	}
	return out
}

// start runs a claimed try in its own goroutine.
func (e *Engine) start(c store.Claim) {
	ctx, cancel := context.WithCancelCause(context.Background())
	t := &try{claim: c, out: newCapture(e.opts.LogLimit), cancel: cancel, renewed: e.opts.Now(), finished: make(chan struct{})}
	e.mu.Lock()
	e.running[c.Key()] = t
	e.metrics.running.Set(float64(len(e.running)))
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer cancel(nil)
		e.execute(ctx, t)
		e.mu.Lock()
		delete(e.running, c.Key())
		e.metrics.running.Set(float64(len(e.running)))
		e.mu.Unlock()
	}()
}

// execute runs one try and records its result.
func (e *Engine) execute(ctx context.Context, t *try) {
	c := t.claim
	log := e.log.With("dag", c.Run.DAGID, "run_id", c.Run.RunID, "task", c.Task.TaskID, "try", c.Task.TryNumber)
	d := e.DAG(c.Run.DAGID)
	task := d.Task(c.Task.TaskID)
	began := time.Now()
	t.out.Printf("[weir scheduler] %s try %d/%d of %s.%s run %s on %s (scheduler %s)", e.opts.Now().UTC().Format(time.RFC3339),
		c.Task.TryNumber, c.Task.MaxTries, c.Run.DAGID, c.Task.TaskID, c.Run.RunID, e.host, e.opts.ID)
	log.Info("task started")

	data := scheduler.TemplateData{DAGID: c.Run.DAGID, RunID: c.Run.RunID, LogicalDate: c.Run.LogicalDate,
		DataIntervalStart: c.Run.Interval.Start, DataIntervalEnd: c.Run.Interval.End, Params: map[string]string{},
		TryNumber: c.Task.TryNumber}
	for k, v := range d.Params {
		data.Params[k] = v
	}
	for k, v := range c.Run.Params {
		data.Params[k] = v
	}
	runCtx, cancelTimeout := context.WithTimeoutCause(ctx, task.Timeout, errTimeout)
	defer cancelTimeout()
	code, runErr := 0, error(nil)
	rendered, err := task.Render(data)
	switch {
	case err != nil:
		code, runErr = -1, err
	case task.Job != "":
		t.out.Printf("[weir scheduler] $ weir %s", shellQuote(rendered.Argv))
		env := e.jobEnv(data, c)
		metricsFile, ferr := taskMetricsFile()
		if ferr == nil {
			env = append(env, TaskMetricsEnv+"="+metricsFile)
		}
		code, runErr = runJob(runCtx, e.opts.Binary, rendered.Argv, env, t.out, e.opts.KillGrace)
		if ferr == nil {
			if err := e.metrics.jobs.readFile(c.Run.DAGID, c.Task.TaskID, metricsFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("task metrics", "err", err)
			}
		}
	default:
		runErr = runSQL(runCtx, e.trino, rendered.SQL, t.out)
		if runErr != nil {
			code = 1
		}
	}
	cause := context.Cause(runCtx)
	if runCtx.Err() == nil {
		cause = nil
	}
	elapsed := time.Since(began)
	e.metrics.tryDuration.WithLabelValues(c.Run.DAGID, c.Task.TaskID).Observe(elapsed.Seconds())

	if errors.Is(cause, errLeaseLost) {
		e.metrics.tries.WithLabelValues(c.Run.DAGID, c.Task.TaskID, "lease_lost").Inc()
		log.Warn("try stopped: lease lost")
		return
	}
	now := e.opts.Now()
	res := store.Result{ExitCode: &code}
	switch {
	case errors.Is(cause, errShutdown):
		res.TryState, res.TaskState, res.GiveBack = "failed", scheduler.StateQueued, true
		res.Error = "stopped: scheduler shut down; the task is queued again"
	case runErr == nil && code == 0 && cause == nil:
		res.TryState, res.TaskState = "success", scheduler.StateSuccess
	case runErr == nil && code == scheduler.SkipExitCode && cause == nil:
		res.TryState, res.TaskState = "skipped", scheduler.StateSkipped
	default:
		res.TryState = "failed"
		switch {
		case errors.Is(cause, errTimeout):
			res.Error = fmt.Sprintf("timed out after %s", task.Timeout)
		case runErr != nil:
			res.Error = runErr.Error()
		default:
			res.Error = fmt.Sprintf("exit status %d", code)
		}
		if c.Task.TryNumber < c.Task.MaxTries {
			// n counts the failures of the current budget of tries (clearing or
			// losing a try grows max_tries).
			n := task.Retries + 1 - (c.Task.MaxTries - c.Task.TryNumber)
			if n < 1 {
				n = 1
			}
			res.TaskState, res.NextAttemptAt = scheduler.StateUpForRetry, now.Add(task.BackoffAfter(n))
		} else {
			res.TaskState = scheduler.StateFailed
		}
	}
	t.out.Printf("[weir scheduler] %s try %d ended after %s: %s %s", now.UTC().Format(time.RFC3339), c.Task.TryNumber,
		elapsed.Round(time.Millisecond), res.TaskState, res.Error)
	res.Log = t.out.String()
	result := string(res.TaskState)
	if res.GiveBack {
		result = "interrupted"
	}
	e.metrics.tries.WithLabelValues(c.Run.DAGID, c.Task.TaskID, result).Inc()

	bg, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := e.store.Finish(bg, e.opts.ID, c.Key(), res, now)
	switch {
	case err != nil:
		// The lease will expire and the task be re-queued: at-least-once.
		log.Error("record task result", "err", err)
	case !ok:
		log.Warn("task result dropped: lease lost meanwhile")
	default:
		attrs := []any{"state", res.TaskState, "exit_code", code, "duration", elapsed.Round(time.Millisecond)}
		if !res.NextAttemptAt.IsZero() {
			attrs = append(attrs, "next_attempt_at", res.NextAttemptAt)
		}
		log.Info("task finished", attrs...)
	}
}

// taskMetricsFile names a file a job may write its counters to (see
// TaskMetricsEnv); it does not exist until the job writes it.
func taskMetricsFile() (string, error) {
	f, err := os.CreateTemp("", "weir-task-metrics-*.prom")
	if err != nil {
		return "", err
	}
	f.Close()
	return f.Name(), os.Remove(f.Name())
}

// jobEnv is the environment of a job: the scheduler's, Options.Env, and the
// run's coordinates.
func (e *Engine) jobEnv(data scheduler.TemplateData, c store.Claim) []string {
	params, _ := json.Marshal(data.Params)
	env := append(os.Environ(), e.opts.Env...)
	return append(env,
		"WEIR_DAG_ID="+data.DAGID,
		"WEIR_TASK_ID="+c.Task.TaskID,
		"WEIR_RUN_ID="+data.RunID,
		"WEIR_TRY_NUMBER="+fmt.Sprint(data.TryNumber),
		"WEIR_LOGICAL_DATE="+data.LogicalDate.UTC().Format(time.RFC3339),
		"WEIR_DATA_INTERVAL_START="+data.DataIntervalStart.UTC().Format(time.RFC3339),
		"WEIR_DATA_INTERVAL_END="+data.DataIntervalEnd.UTC().Format(time.RFC3339),
		"WEIR_PARAMS="+string(params),
	)
}

// renewLoop renews the leases of running tries every third of the TTL and
// saves their logs. Each pass is bounded by a quarter of that interval, so
// a renewal stuck on a hung connection cannot keep a try running past the
// lease another scheduler will reap. A try whose lease has not been renewed
// for half the TTL (taken after the failed call) is killed at once: one
// failed renewal is ridden out, two are not, and the next decision could
// otherwise come (a tick away, plus a bounded pass) after the lease ran out.
func (e *Engine) renewLoop(ctx context.Context) {
	every := e.opts.LeaseTTL / 3
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		e.mu.Lock()
		tries := make([]*try, 0, len(e.running))
		for _, t := range e.running {
			tries = append(tries, t)
		}
		e.mu.Unlock()
		pass, cancel := context.WithTimeout(ctx, every/4)
		for _, t := range tries {
			asked := e.opts.Now() // the lease runs from no earlier than this
			ok, err := e.store.RenewLease(pass, e.opts.ID, t.claim.Key(), e.opts.LeaseTTL, t.out.String())
			switch {
			case err == nil && ok:
				t.renewed = asked
			case err == nil && !ok:
				e.log.Warn("lease taken away; stopping try", "run_id", t.claim.Run.RunID, "task", t.claim.Task.TaskID)
				t.cancel(errLeaseLost)
			case e.opts.Now().Sub(t.renewed) >= e.opts.LeaseTTL/2:
				e.log.Error("cannot renew lease; stopping try", "run_id", t.claim.Run.RunID, "task", t.claim.Task.TaskID, "err", err)
				t.cancel(errLeaseLost)
			default:
				e.log.Warn("renew lease", "task", t.claim.Task.TaskID, "err", err)
			}
		}
		cancel()
	}
}

func shellQuote(argv []string) string {
	out := ""
	for i, a := range argv {
		if i > 0 {
			out += " "
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			out += "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			out += a
		}
	}
	return out
}
