// Package demo runs weir end to end on the local stack and prints what it
// found: it generates a few days of traffic with every anomaly kind into
// Kafka, lands it in bronze with the stream job while the alert job watches
// the same topics, runs the silver_build, gold_views and order_marts DAGs
// through the real scheduler, and prints the answers of the gold views.
//
// Contract:
//   - Every stage is the weir binary's own subcommand, run as a subprocess,
//     so the demo exercises what production runs.
//   - The batch stages are manual runs of the silver_build, gold_views and
//     order_marts DAGs, triggered through the API of a `weir scheduler --manual-only`
//     the demo starts on the configured scheduler address (cron off in it,
//     so no scheduled run starts next to the demo's). The runs land in the
//     scheduler's store, where the gold pipeline-health views read them.
//     The scheduler is stopped with SIGTERM at the end unless
//     Options.KeepScheduler; a failed run stops the demo with its failed
//     tasks' logs.
//   - The stream and alert jobs are stopped with SIGTERM (a clean flush)
//     once bronze holds every produced record and the alerts have settled.
//   - Each stage's duration is printed; a stage that fails stops the demo
//     with its error and the tail of its output.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"weir/config"
	"weir/endpoints"
	"weir/jobs/generate"
	"weir/proc"
	"weir/trino"
	"weir/wait"
)

// Options tune a demo run.
type Options struct {
	// Binary is the weir executable (default: this process's); Dir the
	// working directory of its subprocesses (default: this one's), where
	// relative paths such as rules/alerts.yaml resolve.
	Binary, Dir string
	// History is the simulated span ending now; Rate its records per
	// second of event time; AnomalyEvery the spacing of injected anomalies.
	History      time.Duration
	Rate         float64
	AnomalyEvery time.Duration
	Seed         uint64
	// DAGDir holds the DAG files the demo's scheduler loads.
	DAGDir string
	// WorkDir receives the generator summary, the ground truth and the
	// jobs' logs (default: a temporary directory).
	WorkDir string
	// TrinoURL is printed in "where to look next", without its password.
	TrinoURL string
	// SchedulerListen is the host:port the demo's scheduler serves its UI
	// and API on (default 127.0.0.1:18700, config's scheduler.listen).
	SchedulerListen string
	// SchedulerOperatorPassword and SchedulerViewerPassword are the UI's
	// sign-ins (config's scheduler.*_password); when either is empty the
	// demo makes up both for its scheduler and prints them.
	SchedulerOperatorPassword, SchedulerViewerPassword string
	// KeepScheduler leaves the scheduler running when the demo ends (or
	// fails), for its UI; otherwise the demo stops it.
	KeepScheduler bool
	// Archive ends the demo with a move to the archive tier (weir batch
	// archive) of every partition older than the history's whole days
	// (72h: the oldest, partial day), rows per tier printed before and
	// after. It moves older data of any run on the stack too.
	Archive bool
	// ArchiveStorage says where the archive tier's objects live, for the
	// archive section (WithConfig: the archive bucket and its tier).
	ArchiveStorage string
	// CatchUpTimeout bounds the wait for bronze to hold every record.
	CatchUpTimeout time.Duration
	Out            io.Writer
	Now            func() time.Time

	madeUpPasswords bool
}

// DefaultOptions returns the defaults New gives zero fields (the command's
// flags start from them).
func DefaultOptions() Options {
	return Options{History: 72 * time.Hour, Rate: 2, AnomalyEvery: 3 * time.Hour, Seed: 1, Archive: true, CatchUpTimeout: 4 * time.Minute}
}

// WithConfig fills what the configuration says: the DAG directory (when
// empty), the scheduler's address and sign-ins, and the Trino URL printed
// (without its password).
func (o Options) WithConfig(cfg config.Config) Options {
	if o.DAGDir == "" {
		o.DAGDir = cfg.Scheduler.DAGDir
	}
	o.TrinoURL = cfg.Trino.URL
	o.SchedulerListen = cfg.Scheduler.Listen
	o.SchedulerOperatorPassword, o.SchedulerViewerPassword = cfg.Scheduler.OperatorPassword, cfg.Scheduler.ViewerPassword
	o.ArchiveStorage = ArchiveStorage(cfg.S3)
	return o
}

// ArchiveStorage describes where the archive tier's objects are stored:
// the archive bucket, and the MinIO of its tier when one is configured.
func ArchiveStorage(s3 config.S3) string {
	t := s3.ArchiveTier
	if t.Endpoint == "" {
		return fmt.Sprintf("bucket %s on the warehouse MinIO %s", s3.ArchiveBucket, s3.Endpoint)
	}
	return fmt.Sprintf("bucket %s, its objects moved to tier %s: MinIO %s of its own, bucket %s (reads through %s)",
		s3.ArchiveBucket, t.Name, t.Endpoint, t.Bucket, s3.Endpoint)
}

// redactURL drops a password from a URL (user names stay).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// trinoCLIFlags are the Trino CLI's connection flags for a config.Trino
// URL: the server (no user, no query), the user, and with a password
// --password (the CLI asks for it, or reads TRINO_PASSWORD) and the
// certificate to trust (the URL's SSLCertPath).
func trinoCLIFlags(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "--server " + s
	}
	server := url.URL{Scheme: u.Scheme, Host: u.Host}
	flags := "--server " + server.String()
	if u.User == nil {
		return flags
	}
	flags += " --user " + u.User.Username()
	if _, ok := u.User.Password(); ok {
		flags += " --password"
	}
	if ca := u.Query().Get("SSLCertPath"); ca != "" {
		flags += " --truststore-path " + ca
	}
	return flags
}

func (o *Options) defaults() error {
	d := DefaultOptions()
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find weir binary: %w", err)
		}
		o.Binary = exe
	}
	if o.History <= 0 {
		o.History = d.History
	}
	if o.Rate <= 0 {
		o.Rate = d.Rate
	}
	if o.AnomalyEvery <= 0 {
		o.AnomalyEvery = d.AnomalyEvery
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.DAGDir == "" {
		o.DAGDir = "dags"
	}
	if o.SchedulerListen == "" {
		o.SchedulerListen = "127.0.0.1:18700"
	}
	if o.SchedulerOperatorPassword == "" || o.SchedulerViewerPassword == "" {
		o.SchedulerOperatorPassword, o.SchedulerViewerPassword = rand.Text(), rand.Text()
		o.madeUpPasswords = true
	}
	if o.CatchUpTimeout <= 0 {
		o.CatchUpTimeout = d.CatchUpTimeout
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "weir-demo-")
		if err != nil {
			return fmt.Errorf("create work dir: %w", err)
		}
		o.WorkDir = dir
	}
	return os.MkdirAll(o.WorkDir, 0o755)
}

// Demo is one run.
type Demo struct {
	opts     Options
	db       *sql.DB
	stages   []Stage
	runs     []DAGRun
	sched    *background // the demo's scheduler, nil before it started
	reported bool        // the answers and "where to look next" are printed
	start    time.Time
}

// Stage is one timed step.
type Stage struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
}

// New prepares a demo that queries Trino through db.
func New(opts Options, db *sql.DB) (*Demo, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return &Demo{opts: opts, db: db}, nil
}

func (d *Demo) printf(format string, args ...any) { fmt.Fprintf(d.opts.Out, format, args...) }

// stage runs fn as a named, timed step.
func (d *Demo) stage(name string, fn func() error) error {
	d.printf("▸ %s\n", name)
	t0 := d.opts.Now()
	err := fn()
	took := d.opts.Now().Sub(t0)
	d.stages = append(d.stages, Stage{Name: name, Duration: took})
	if err != nil {
		d.printf("  ✗ %s failed after %s: %v\n", name, took.Round(time.Millisecond), err)
		return fmt.Errorf("%s: %w", name, err)
	}
	d.printf("  ✓ %s\n", took.Round(time.Millisecond))
	return nil
}

// Stages returns the timed steps so far.
func (d *Demo) Stages() []Stage { return d.stages }

// Run executes the whole demo.
func (d *Demo) Run(ctx context.Context) error {
	d.start = d.opts.Now()
	jobName := fmt.Sprintf("demo-%d", d.start.Unix())
	d.printf("weir demo: %s of traffic at %.0f records/s of event time, anomalies every %s (work dir %s)\n\n",
		d.opts.History, d.opts.Rate, d.opts.AnomalyEvery, d.opts.WorkDir)

	defer func() {
		switch {
		case !d.opts.KeepScheduler:
			d.sched.stop()
		case !d.reported && d.sched != nil && !d.sched.exited():
			d.printf("\nthe scheduler keeps running: %s (pid %d, log %s)\n", d.schedulerURL(), d.sched.cmd.Process.Pid, d.sched.log)
		}
	}()
	if err := d.stage("start the scheduler (weir scheduler --manual-only: its DAGs' cron schedules off)", func() error {
		var err error
		if d.sched, err = d.startScheduler(ctx); err != nil {
			return err
		}
		d.printf("  UI and API on %s\n", d.schedulerURL())
		return nil
	}); err != nil {
		return err
	}
	if err := d.stage("create the topics, every lakehouse table and the gold views (weir init)", func() error {
		return d.run(ctx, "init", "init")
	}); err != nil {
		return err
	}

	var alerts, stream *background
	defer func() {
		alerts.stop()
		stream.stop()
	}()
	if err := d.stage("start the alert job (own consumer group, from the latest offsets) and the stream job", func() error {
		listen, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		alerts, err = d.startBackground(ctx, "alerts", "alerts", "--job", jobName, "--start-at", "latest", "--listen", listen, "--iceberg-interval", "3s")
		if err != nil {
			return err
		}
		// Its first start on a new stack waits for Kafka's transaction
		// coordinator to load (idempotent producer), which on a busy
		// machine took over a minute.
		if err := waitHTTP(ctx, "http://"+listen+endpoints.Readyz, 3*time.Minute, alerts); err != nil {
			return fmt.Errorf("alert job not ready: %w", err)
		}
		if listen, err = freeLoopbackAddr(); err != nil {
			return err
		}
		stream, err = d.startBackground(ctx, "stream", "stream", "--commit-interval", "2s", "--listen", listen)
		return err
	}); err != nil {
		return err
	}

	before, err := d.bronzeRows(ctx)
	if err != nil {
		return err
	}
	summaryPath := filepath.Join(d.opts.WorkDir, "summary.json")
	truthPath := filepath.Join(d.opts.WorkDir, "truth.jsonl")
	var sum generate.Summary
	if err := d.stage("generate the history into Kafka (weir generate)", func() error {
		err := d.run(ctx, "generate", "generate", "--seed", fmt.Sprint(d.opts.Seed), "--history", formatDays(d.opts.History),
			"--rate", fmt.Sprint(d.opts.Rate), "--anomaly-every", d.opts.AnomalyEvery.String(),
			"--summary", summaryPath, "--truth", truthPath)
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(summaryPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &sum); err != nil {
			return fmt.Errorf("read summary: %w", err)
		}
		d.printf("  %d records (%s), anomalies %v\n", sum.Records, topicCounts(&sum), sum.Anomalies)
		return nil
	}); err != nil {
		return err
	}

	if err := d.stage("land every record in bronze (weir stream), then stop it", func() error {
		want := before + sum.Records
		wctx, cancel := context.WithTimeout(ctx, d.opts.CatchUpTimeout)
		defer cancel()
		var n int64
		err := wait.Until(wctx, 2*time.Second, func(wctx context.Context) error {
			var err error
			if n, err = d.bronzeRows(wctx); err != nil {
				return wait.Stop(err)
			}
			if n >= want {
				return nil
			}
			if stream.exited() {
				return wait.Stop(fmt.Errorf("stream job exited: %s", stream.tail()))
			}
			return errors.New("bronze not caught up")
		})
		switch {
		case err == nil:
			d.printf("  bronze holds %d new records\n", n-before)
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() == nil:
			return err
		default:
			return fmt.Errorf("bronze has %d of %d new records after %s", n-before, sum.Records, d.opts.CatchUpTimeout)
		}
		return stream.stop()
	}); err != nil {
		return err
	}

	for _, dagID := range []string{"silver_build", "gold_views", "order_marts"} {
		if err := d.stage("run DAG "+dagID+" through the scheduler (a manual run)", func() error {
			_, err := d.runDAG(ctx, dagID, d.sched)
			return err
		}); err != nil {
			return err
		}
	}
	if !d.opts.KeepScheduler {
		if err := d.stage("stop the scheduler", d.sched.stop); err != nil {
			return err
		}
	}

	if err := d.stage("let the alert job settle, then stop it", func() error {
		return d.settleAlerts(ctx, jobName, alerts)
	}); err != nil {
		return err
	}

	d.printf("\n")
	if err := d.report(ctx, jobName, truthPath, &sum); err != nil {
		return err
	}
	d.reported = true
	if d.opts.Archive {
		if err := d.archiveMove(ctx); err != nil {
			return err
		}
	}
	total := d.opts.Now().Sub(d.start)
	d.printf("\ndemo finished in %s\n", total.Round(time.Second))
	for _, s := range d.stages {
		d.printf("  %-90s %8s\n", s.Name, s.Duration.Round(100*time.Millisecond))
	}
	return nil
}

// settleAlerts waits until the job's rows in silver.alerts stop changing
// (and at least one alerts append interval has passed), then stops it.
func (d *Demo) settleAlerts(ctx context.Context, job string, alerts *background) error {
	last, stable := int64(-1), 0
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := sleep(ctx, 4*time.Second); err != nil {
		return err
	}
	err := wait.Until(wctx, 4*time.Second, func(wctx context.Context) error {
		var n int64
		err := d.db.QueryRowContext(wctx, "SELECT count(*) FROM silver.alerts WHERE job = "+trino.String(job)).Scan(&n)
		if err != nil {
			return wait.Stop(fmt.Errorf("count alerts: %w", err))
		}
		if n == last && n > 0 {
			stable++
		} else {
			stable = 0
		}
		last = n
		if stable < 3 {
			return errors.New("alerts still changing")
		}
		return nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && wctx.Err() == nil {
		return err
	}
	return alerts.stop()
}

// bronzeRows is the number of rows in every bronze table, dead letters
// included.
func (d *Demo) bronzeRows(ctx context.Context) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM bronze.web_access) + (SELECT count(*) FROM bronze.app_events) +
  (SELECT count(*) FROM bronze.app_logs) + (SELECT count(*) FROM bronze.infra_metrics) +
  (SELECT count(*) FROM bronze.dims) + (SELECT count(*) FROM bronze.dead_letters)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count bronze rows: %w", err)
	}
	return n, nil
}

// jobIdentities names the identity each job the demo starts signs in as:
// the WEIR_<JOB>_* variables of the native stack's env.sh (or a
// deployment's), applied over WEIR_* by config.IdentityEnv. The scheduler's
// identity is the batch jobs' it runs (its maintenance jobs switch to
// WEIR_MAINTAIN_* themselves), and the archive move runs as the scheduler
// would run it; the generator talks to Kafka only. Without such variables a
// job runs with WEIR_* as they are.
var jobIdentities = map[string]string{
	"init":      "WEIR_INIT_",
	"stream":    "WEIR_STREAM_",
	"alerts":    "WEIR_ALERTS_",
	"scheduler": "WEIR_BATCH_",
	"archive":   "WEIR_BATCH_",
}

// jobEnv is environ for the job named name, with its identity applied.
func jobEnv(environ []string, name string) []string {
	if prefix, ok := jobIdentities[name]; ok {
		return config.IdentityEnv(environ, prefix)
	}
	return environ
}

// run runs `weir args...` to completion, its output in WorkDir/<name>.log.
func (d *Demo) run(ctx context.Context, name string, args ...string) error {
	logPath := filepath.Join(d.opts.WorkDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, d.opts.Binary, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = d.opts.Dir, f, f
	cmd.Env = jobEnv(os.Environ(), name)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("weir %s: %w\n%s", strings.Join(args, " "), err, tailFile(logPath, 15))
	}
	return nil
}

// background is a long-running weir subcommand.
type background struct {
	name, log string
	cmd       *exec.Cmd
	done      chan error
	err       error
	stopped   bool
}

// startBackground starts `weir args...`, its output in WorkDir/<name>.log;
// it gets SIGTERM when ctx ends.
func (d *Demo) startBackground(ctx context.Context, name string, args ...string) (*background, error) {
	return d.spawn(ctx, name, false, args...)
}

// spawn starts `weir args...`. A detached process gets its own process group
// and outlives the demo: neither ctx nor the terminal's ^C stops it.
func (d *Demo) spawn(ctx context.Context, name string, detach bool, args ...string) (*background, error) {
	logPath := filepath.Join(d.opts.WorkDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	cmd := exec.Command(d.opts.Binary, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = d.opts.Dir, f, f
	cmd.Env = append(jobEnv(os.Environ(), name), "WEIR_SCHEDULER_OPERATOR_PASSWORD="+d.opts.SchedulerOperatorPassword,
		"WEIR_SCHEDULER_VIEWER_PASSWORD="+d.opts.SchedulerViewerPassword)
	if detach {
		cmd.SysProcAttr = proc.Detached()
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start weir %s: %w", name, err)
	}
	b := &background{name: name, log: logPath, cmd: cmd, done: make(chan error, 1)}
	go func() { b.done <- cmd.Wait(); f.Close() }()
	if !detach {
		go func() {
			<-ctx.Done()
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}()
	}
	return b, nil
}

func (b *background) exited() bool {
	if b == nil {
		return true
	}
	select {
	case err := <-b.done:
		b.err, b.stopped = err, true
		b.done <- err
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for a clean exit (SIGKILL after a minute).
func (b *background) stop() error {
	if b == nil || b.cmd.Process == nil {
		return nil
	}
	if b.stopped {
		return nil
	}
	b.stopped = true
	var err error
	waits := 0
	proc.Terminate(b.cmd.Process.Pid, syscall.SIGTERM, time.Minute, time.Minute, func(d time.Duration) bool {
		waits++
		select {
		case err = <-b.done:
			return true
		case <-time.After(d):
			return false
		}
	})
	switch {
	case waits > 1:
		return fmt.Errorf("weir %s: did not stop within a minute of SIGTERM", b.name)
	case err != nil:
		return fmt.Errorf("weir %s: %w\n%s", b.name, err, b.tail())
	}
	return nil
}

func (b *background) tail() string { return tailFile(b.log, 15) }

func tailFile(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration, b *background) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := wait.Until(wctx, 500*time.Millisecond, func(wctx context.Context) error {
		req, _ := http.NewRequestWithContext(wctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if b.exited() {
			return wait.Stop(fmt.Errorf("exited: %s", b.tail()))
		}
		return errors.New("not ready")
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case wctx.Err() == nil:
		return err
	}
	return fmt.Errorf("%s not ready after %s", url, timeout)
}

// freeLoopbackAddr is a loopback address nothing listens on now, for a job
// the demo starts (another stack's jobs may hold any fixed port).
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func topicCounts(s *generate.Summary) string {
	var b bytes.Buffer
	for _, t := range []string{"web.access", "app.events", "app.logs", "infra.metrics"} {
		if ts := s.Topics[t]; ts != nil {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d", t, ts.Produced)
		}
	}
	return b.String()
}
