package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"weir/proc"
	"weir/wait"
)

// service is one long-running process of the stack.
type service struct {
	name         string
	group        string   // "storage" services start (and are bootstrapped) first
	endpoint     string   // what people connect to
	listens      []string // host:port it binds; must be free before it starts
	argv         []string
	env          []string
	dir          string
	runAs        string // user to run as when weir runs as root (PostgreSQL refuses root)
	stopSignal   syscall.Signal
	startTimeout time.Duration
	prepare      func(ctx context.Context) error // config files, data dirs; runs before a start
	healthy      func(ctx context.Context) error
}

func (sv *service) pidFile(s *Stack) string { return s.path("run", sv.name+".pid") }
func (sv *service) logFile(s *Stack) string { return s.path("logs", sv.name+".log") }

// child is a service process this weir started: its parent learns of its
// exit from cmd.Wait, which cannot race with the child's execve the way
// reading /proc can.
type child struct {
	pid  int
	done chan struct{} // closed when cmd.Wait returned
	err  error         // what cmd.Wait returned; read only after done
}

// exited reports whether the child has exited, and how.
func (c *child) exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// children are the services this process started, by service name.
type children struct {
	mu     sync.Mutex
	byName map[string]*child
}

// get returns the child record of a service, nil if this weir did not
// start it (or the Stack was not made by New).
func (c *children) get(name string) *child {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byName[name]
}

func (c *children) put(name string, ch *child) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byName[name] = ch
}

// pid returns the service's pid if its process still runs and is ours. A
// process this weir started is known through its child record; one started
// by an earlier weir through its pid file, which records the pid and the
// process's start time: the same pid with another start time is a stranger
// that reused the number.
func (sv *service) pid(s *Stack) int {
	if c := s.children.get(sv.name); c != nil {
		if gone, _ := c.exited(); gone {
			return 0
		}
		return c.pid
	}
	b, err := os.ReadFile(sv.pidFile(s))
	if err != nil {
		return 0
	}
	pid, start, err := parsePidFile(string(b))
	if err != nil {
		return 0
	}
	if start == 0 {
		// Written by a weir that recorded no start time: identified by its
		// command line, which names the stack directory.
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !namesDir(string(cmdline), s.Dir) {
			return 0
		}
	}
	st, err := readProcStat(pid)
	if err != nil || st.state == "Z" || (start != 0 && st.start != start) {
		return 0
	}
	return pid
}

func (sv *service) running(s *Stack) bool { return sv.pid(s) != 0 }

// parsePidFile reads "pid starttime" (or a bare pid: start 0).
func parsePidFile(text string) (pid int, start uint64, err error) {
	f := strings.Fields(text)
	if len(f) == 0 || len(f) > 2 {
		return 0, 0, fmt.Errorf("pid file %q: want \"pid starttime\"", text)
	}
	if pid, err = strconv.Atoi(f[0]); err != nil || pid <= 0 {
		return 0, 0, fmt.Errorf("pid file %q: bad pid", text)
	}
	if len(f) == 2 {
		if start, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("pid file %q: bad start time", text)
		}
	}
	return pid, start, nil
}

// procStat is what /proc/PID/stat tells about a process.
type procStat struct {
	state string
	start uint64 // clock ticks after boot (field 22): fixed at fork, kept across exec
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// Field 2, the command name, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:])) // from field 3 on
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
	}
	return procStat{state: f[0], start: start}, nil
}

// namesDir reports whether a NUL-separated command line names dir or a path
// below it (not a sibling that merely shares the prefix).
func namesDir(cmdline, dir string) bool {
	return strings.Contains(cmdline, dir+"/") || strings.Contains(cmdline, dir+"\x00")
}

func pidString(sv *service, s *Stack) string {
	if pid := sv.pid(s); pid != 0 {
		return "pid " + strconv.Itoa(pid)
	}
	return "-"
}

// start launches the service detached (own session, so it outlives weir)
// unless it already runs.
func (sv *service) start(s *Stack) error {
	if sv.running(s) {
		s.logf("  %-14s running (reused)", sv.name)
		return nil
	}
	if err := awaitPorts(context.Background(), sv.name, sv.listens); err != nil {
		return err
	}
	logf, err := os.OpenFile(sv.logFile(s), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n==== %s start %s\n", time.Now().Format(time.RFC3339), strings.Join(sv.argv, " "))
	cmd := exec.Command(sv.argv[0], sv.argv[1:]...)
	cmd.Dir = sv.dir
	cmd.Env = serviceEnv(os.Environ(), sv.env)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = proc.Session()
	if sv.runAs != "" && os.Geteuid() == 0 {
		u, err := user.Lookup(sv.runAs)
		if err != nil {
			return fmt.Errorf("start %s: look up user %s: %w", sv.name, sv.runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", sv.name, err)
	}
	c := &child{pid: cmd.Process.Pid, done: make(chan struct{})}
	s.children.put(sv.name, c)
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	// The child is not reaped before Wait, so its stat is its own even if
	// it has exited already.
	st, err := readProcStat(c.pid)
	if err != nil {
		return fmt.Errorf("start %s: read its start time: %w", sv.name, err)
	}
	if err := writeFileAtomic(sv.pidFile(s), fmt.Sprintf("%d %d\n", c.pid, st.start), 0o644); err != nil {
		return err
	}
	s.logf("  %-14s started pid %d", sv.name, c.pid)
	return nil
}

// exitedDuringStart returns why the service's process is gone, or nil while
// it runs.
func (sv *service) exitedDuringStart(s *Stack) error {
	if c := s.children.get(sv.name); c != nil {
		gone, err := c.exited()
		if !gone {
			return nil
		}
		status := "exit status 0"
		if err != nil {
			status = err.Error()
		}
		return fmt.Errorf("%s exited during start (%s); see %s%s", sv.name, status, sv.logFile(s), logTail(sv.logFile(s), 15))
	}
	if sv.running(s) {
		return nil
	}
	return fmt.Errorf("%s exited during start (started by another weir: exit status unknown); see %s%s", sv.name, sv.logFile(s), logTail(sv.logFile(s), 15))
}

// stop signals the service's process group and waits for it to exit.
func (sv *service) stop(s *Stack) error { return sv.signalStop(s, sv.stopSignal, "stopped") }

// signalStop sends sig to the service's process group, SIGKILL after a
// grace, and waits for it to exit; done is what the log says then.
func (sv *service) signalStop(s *Stack, sig syscall.Signal, done string) error {
	pid := sv.pid(s)
	if pid == 0 {
		os.Remove(sv.pidFile(s))
		return nil
	}
	stopped := func() bool { return !sv.running(s) }
	if !proc.Terminate(pid, sig, 30*time.Second, time.Second, func(d time.Duration) bool {
		return gone(d, 100*time.Millisecond, stopped)
	}) {
		return fmt.Errorf("stop %s: pid %d still running", sv.name, pid)
	}
	os.Remove(sv.pidFile(s))
	s.logf("  %-14s %s", sv.name, done)
	return nil
}

// Processes lists every running process whose command line names the stack
// directory: what Down must leave none of.
func (s *Stack) Processes() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !namesDir(string(cmdline), s.Dir) {
			continue
		}
		if st, err := readProcStat(pid); err != nil || st.state == "Z" {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// ServicePid is the pid of the named service while it runs (0 when it does
// not): benchmarks read its CPU time from /proc.
func (s *Stack) ServicePid(name string) (int, error) {
	sv, err := s.service(name)
	if err != nil {
		return 0, err
	}
	return sv.pid(s), nil
}

// StopService stops one named service (fault tests: a broker or MinIO node
// down) and StartService starts it again.
func (s *Stack) StopService(ctx context.Context, name string) error {
	return s.withService(ctx, name, func(sv *service) error { return sv.stop(s) })
}

// KillService kills one named service's process group with SIGKILL (a
// crash: no shutdown hook runs, nothing is flushed) and waits until it is
// gone. StartService starts it again.
func (s *Stack) KillService(ctx context.Context, name string) error {
	return s.withService(ctx, name, func(sv *service) error {
		if sv.pid(s) == 0 {
			return fmt.Errorf("kill %s: not running", name)
		}
		return sv.signalStop(s, syscall.SIGKILL, "killed (SIGKILL)")
	})
}

// withService runs fn on the named service, holding the stack's lock.
func (s *Stack) withService(ctx context.Context, name string, fn func(*service) error) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	sv, err := s.service(name)
	if err != nil {
		return err
	}
	return fn(sv)
}

// StartService starts one named service and waits until it is healthy.
func (s *Stack) StartService(ctx context.Context, name string) error {
	return s.withService(ctx, name, func(sv *service) error {
		if err := sv.start(s); err != nil {
			return err
		}
		return s.waitHealthy(ctx, sv)
	})
}

func (s *Stack) service(name string) (*service, error) {
	sec, err := s.loadSecrets()
	if err != nil {
		return nil, err
	}
	for _, sv := range s.services(sec) {
		if sv.name == name {
			return sv, nil
		}
	}
	return nil, fmt.Errorf("no service %q in profile %s", name, s.Profile)
}

// writeFile writes a generated file, creating its directory. Files that
// hold a password are written 0600.
func writeFile(path, content string, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, content, perm)
}

// writeFileAtomic replaces path in one step, so a reader (another weir's
// status, a service starting) never sees half a file.
func writeFileAtomic(path, content string, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), perm); err != nil {
		return err
	}
	// WriteFile keeps the mode of a file that exists already.
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// gone polls done every interval for up to timeout and reports whether it
// became true: processes being stopped, which no context bounds.
func gone(timeout, interval time.Duration, done func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return wait.Until(ctx, interval, func(context.Context) error {
		if done() {
			return nil
		}
		return errors.New("still running")
	}) == nil
}

// serviceEnv is a service's environment: the caller's without MinIO's
// settings, then the service's own. MinIO reads every MINIO_* variable as
// configuration and refuses to join a pool whose nodes' differ, and a
// caller that sourced env.sh (a test restarting a node) has the archive
// tier's MINIO_ARCHIVE_ROOT_*.
func serviceEnv(caller, own []string) []string {
	env := make([]string, 0, len(caller)+len(own))
	for _, kv := range caller {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	return append(env, own...)
}
