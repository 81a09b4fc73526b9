// Package localstack runs weir's services natively, without a Docker engine:
// Kafka (KRaft) from its Maven Central jars, MinIO and Alertmanager built with
// `go install`, the machine's PostgreSQL, and Trino from its server tarball.
// It is what `make up`, `make test` and `make demo` run on.
//
// Contract: Up is idempotent (services already running and healthy are
// reused), prints where each service listens, and bootstraps buckets,
// databases, service users and catalog namespaces. Down stops every process
// the stack started (tracked by pid files, and by a final scan for any
// process whose command line names the stack directory) and leaves none
// behind. Downloads and builds are cached under one directory; every service
// logs to its own file under <dir>/logs.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"weir/proc"
	"weir/wait"
)

// Profile selects the topology.
type Profile string

const (
	// Single is one Kafka broker, one MinIO node with 4 drives, one Trino node.
	Single Profile = "single"
	// Cluster is 3 Kafka brokers (RF 3, min ISR 2), 4 MinIO nodes on
	// 127.0.0.1–4, and a Trino coordinator with 2 workers.
	Cluster Profile = "cluster"
)

// ParseProfile accepts "single" or "cluster".
func ParseProfile(s string) (Profile, error) {
	switch Profile(s) {
	case Single, Cluster:
		return Profile(s), nil
	}
	return "", fmt.Errorf("unknown profile %q: want single or cluster", s)
}

// Stack is one native stack rooted at Dir.
type Stack struct {
	Dir     string // runtime state: data, logs, pid files, secrets, env.sh
	Cache   string // downloads and builds, reusable across stacks
	Profile Profile
	Out     io.Writer // progress for people
	// PortOffset shifts every port, so a second stack (e.g. the cluster
	// profile for tests) can run beside the first one.
	PortOffset int

	children *children // the service processes this weir started
}

func (s *Stack) port(base int) int { return base + s.PortOffset }

// FromEnv returns the stack the environment points at, as its env.sh sets
// it (WEIR_STACK_DIR, WEIR_CACHE_DIR, WEIR_STACK_PROFILE): tests that stop
// and start its services use it.
func FromEnv(out io.Writer) (*Stack, error) {
	dir := os.Getenv("WEIR_STACK_DIR")
	if dir == "" {
		return nil, errors.New("WEIR_STACK_DIR is not set: source the stack's env.sh")
	}
	p := Single
	if v := os.Getenv("WEIR_STACK_PROFILE"); v != "" {
		var err error
		if p, err = ParseProfile(v); err != nil {
			return nil, fmt.Errorf("WEIR_STACK_PROFILE: %w", err)
		}
	}
	return New(dir, os.Getenv("WEIR_CACHE_DIR"), p, out)
}

// New returns a stack rooted at dir. cache may be empty (dir/cache).
func New(dir, cache string, p Profile, out io.Writer) (*Stack, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if cache == "" {
		// A running stack remembers the cache its binaries came from.
		if b, err := os.ReadFile(filepath.Join(abs, "cache-dir")); err == nil {
			cache = strings.TrimSpace(string(b))
		} else {
			cache = filepath.Join(abs, "cache")
		}
	}
	cache, err = filepath.Abs(cache)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = io.Discard
	}
	st := &Stack{Dir: abs, Cache: cache, Profile: p, Out: out, children: &children{byName: map[string]*child{}}}
	// The offset a stack was started with sticks to its directory.
	if b, err := os.ReadFile(st.path("port-offset")); err == nil {
		st.PortOffset, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if v := os.Getenv("WEIR_STACK_PORT_OFFSET"); v != "" {
		if st.PortOffset, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("WEIR_STACK_PORT_OFFSET: %w", err)
		}
	}
	return st, nil
}

func (s *Stack) path(parts ...string) string {
	return filepath.Join(append([]string{s.Dir}, parts...)...)
}

func (s *Stack) logf(format string, args ...any) {
	fmt.Fprintf(s.Out, format+"\n", args...)
}

// runningProfile is the profile recorded by the last Up, or "" if none.
func (s *Stack) runningProfile() Profile {
	b, err := os.ReadFile(s.path("profile"))
	if err != nil {
		return ""
	}
	return Profile(strings.TrimSpace(string(b)))
}

// services lists what the profile runs, in start order.
func (s *Stack) services(sec Secrets) []*service {
	var out []*service
	out = append(out, s.postgres(sec))
	out = append(out, s.minio(sec)...)
	out = append(out, s.minioArchive(sec))
	out = append(out, s.kafka()...)
	out = append(out, s.alertmanager(sec))
	out = append(out, s.trino(sec)...)
	return append(out, s.prometheus(sec))
}

// Up installs what is missing, starts every service that is not running,
// waits until all are healthy and bootstraps them.
func (s *Stack) Up(ctx context.Context) error {
	start := time.Now()
	// The stack directory holds secrets: a new one is private.
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if p := s.runningProfile(); p != "" && p != s.Profile && len(s.Processes()) > 0 {
		return fmt.Errorf("stack in %s already runs profile %s: run `make down` first", s.Dir, p)
	}
	for _, d := range []string{s.Cache, s.path("logs"), s.path("run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	s.pruneOrphanPGHomes()
	if err := os.WriteFile(s.path("profile"), []byte(s.Profile), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(s.path("port-offset"), []byte(strconv.Itoa(s.PortOffset)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(s.path("cache-dir"), []byte(s.Cache), 0o644); err != nil {
		return err
	}
	sec, err := s.secrets()
	if err != nil {
		return err
	}
	if err := s.install(ctx); err != nil {
		return err
	}
	svcs := s.services(sec)
	byName := map[string]*service{}
	for _, sv := range svcs {
		byName[sv.name] = sv
	}
	// PostgreSQL and MinIO first: the catalog and buckets are bootstrapped
	// before Trino ever touches them.
	first := []*service{}
	rest := []*service{}
	for _, sv := range svcs {
		if sv.group == "storage" {
			first = append(first, sv)
		} else {
			rest = append(rest, sv)
		}
	}
	if err := s.restartUnauthenticatedTrino(byName); err != nil {
		return err
	}
	if err := s.startAll(ctx, first); err != nil {
		return err
	}
	if err := s.bootstrapStorage(ctx, sec); err != nil {
		return err
	}
	if err := s.startAll(ctx, rest); err != nil {
		return err
	}
	if err := s.refreshAlertmanager(ctx, sec); err != nil {
		return err
	}
	if err := s.refreshPrometheus(ctx, sec); err != nil {
		return err
	}
	if err := s.bootstrapServices(ctx, sec); err != nil {
		return err
	}
	if err := s.writeEnv(sec); err != nil {
		return err
	}
	s.logf("stack %s is up in %s (%s)", s.Profile, time.Since(start).Round(time.Second), s.Dir)
	s.printEndpoints(os.Stdout)
	return nil
}

func (s *Stack) startAll(ctx context.Context, svcs []*service) error {
	for _, sv := range svcs {
		if sv.prepare != nil && !sv.running(s) {
			if err := sv.prepare(ctx); err != nil {
				return fmt.Errorf("prepare %s: %w", sv.name, err)
			}
		}
		if err := sv.start(s); err != nil {
			return err
		}
	}
	errs := make(chan error, len(svcs))
	for _, sv := range svcs {
		go func() { errs <- s.waitHealthy(ctx, sv) }()
	}
	var all []error
	for range svcs {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

func (s *Stack) waitHealthy(ctx context.Context, sv *service) error {
	wctx, cancel := context.WithTimeout(ctx, sv.startTimeout)
	defer cancel()
	var last error
	err := wait.Until(wctx, 500*time.Millisecond, func(wctx context.Context) error {
		if err := sv.exitedDuringStart(s); err != nil {
			return wait.Stop(err)
		}
		cctx, cancel := context.WithTimeout(wctx, 5*time.Second)
		last = sv.healthy(cctx)
		cancel()
		return last
	})
	switch {
	case err == nil:
		s.logf("  %-14s ready  %s", sv.name, sv.endpoint)
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case wctx.Err() == nil: // the service exited
		return err
	}
	return fmt.Errorf("%s not healthy after %s: %v; see %s%s", sv.name, sv.startTimeout, last, sv.logFile(s), logTail(sv.logFile(s), 15))
}

// Down stops every service of the stack, whatever profile started it.
func (s *Stack) Down(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return s.down()
}

// Remove stops the stack and deletes it: its directory, MinIO's drives
// wherever they were redirected, and, when weir runs as root, the postgres
// user's directory that holds its database.
func (s *Stack) Remove(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.down(); err != nil {
		return err
	}
	if err := s.removePGHome(); err != nil {
		return err
	}
	// MinIO's drives, when redirected off a filesystem without O_DIRECT.
	for _, d := range []string{"minio", "minio-archive"} {
		if target, err := os.Readlink(s.path("data", d)); err == nil {
			if err := os.RemoveAll(target); err != nil {
				return err
			}
		}
	}
	return os.RemoveAll(s.Dir)
}

// lock takes the stack-wide lock <dir>/lock, so two weir invocations never
// start or stop the same stack's services interleaved. A missing stack
// directory needs no lock: there is nothing to stop. The lock file is
// opened close-on-exec: services started under it do not hold it.
func (s *Stack) lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(s.path("lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open stack lock: %w", err)
	}
	waiting := false
	err = wait.Until(ctx, 200*time.Millisecond, func(context.Context) error {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) {
			return wait.Stop(err)
		}
		if !waiting {
			s.logf("waiting for another weir that holds %s", f.Name())
			waiting = true
		}
		return err
	})
	switch {
	case err == nil:
		return func() { f.Close() }, nil // closing releases the lock
	case ctx.Err() != nil:
		f.Close()
		return nil, ctx.Err()
	}
	f.Close()
	return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
}

func (s *Stack) down() error {
	var errs []error
	sec, _ := s.loadSecrets()
	// Reverse start order: consumers of storage go first. The running
	// profile first, so its storage is not stopped under its consumers by
	// a profile that shares a service name (postgres); then the other one,
	// for what an interrupted profile switch left.
	profiles := []Profile{Cluster, Single}
	if s.runningProfile() == Single {
		profiles = []Profile{Single, Cluster}
	}
	for _, p := range profiles {
		st := *s
		st.Profile = p
		svcs := st.services(sec)
		for i := len(svcs) - 1; i >= 0; i-- {
			if err := svcs[i].stop(&st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// Anything left that names the stack directory is ours: stop it too.
	for _, pid := range s.Processes() {
		_ = proc.Signal(pid, syscall.SIGKILL)
	}
	gone(10*time.Second, 200*time.Millisecond, func() bool { return len(s.Processes()) == 0 })
	if left := s.Processes(); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes still running after down: %v", left))
	}
	os.Remove(s.path("profile"))
	os.Remove(s.path("env.sh"))
	if len(errs) == 0 {
		s.logf("stack stopped")
	}
	return errors.Join(errs...)
}

// Status reports each service of the running profile.
func (s *Stack) Status(ctx context.Context, w io.Writer) error {
	p := s.runningProfile()
	if p == "" {
		fmt.Fprintln(w, "stack is not running")
		if left := s.Processes(); len(left) > 0 {
			fmt.Fprintf(w, "stray stack processes: %v (run make down)\n", left)
		}
		return nil
	}
	st := *s
	st.Profile = p
	sec, err := st.loadSecrets()
	if err != nil {
		return err
	}
	var down []string
	fmt.Fprintf(w, "profile %s, dir %s\n", p, s.Dir)
	for _, sv := range st.services(sec) {
		state := "stopped"
		if sv.running(&st) {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			if err := sv.healthy(cctx); err != nil {
				state = "unhealthy: " + err.Error()
			} else {
				state = "healthy"
			}
			cancel()
		}
		if state != "healthy" {
			down = append(down, sv.name)
		}
		fmt.Fprintf(w, "  %-14s %-8s %-32s log %s\n", sv.name, pidString(sv, &st), sv.endpoint, sv.logFile(&st))
		fmt.Fprintf(w, "  %-14s %s\n", "", state)
	}
	if len(down) > 0 {
		sort.Strings(down)
		return fmt.Errorf("not healthy: %s", strings.Join(down, ", "))
	}
	return nil
}

// Logs lists the log files of the stack.
func (s *Stack) Logs() ([]string, error) {
	return filepath.Glob(s.path("logs", "*.log"))
}

func (s *Stack) printEndpoints(w io.Writer) {
	sec, _ := s.loadSecrets()
	for _, sv := range s.services(sec) {
		fmt.Fprintf(w, "  %-14s %-34s log %s\n", sv.name, sv.endpoint, sv.logFile(s))
	}
	fmt.Fprintf(w, "  environment: source %s\n", s.path("env.sh"))
}
