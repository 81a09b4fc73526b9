package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// pid returns the recorded pid if that process still runs and is ours.
func (sv *service) pid(s *Stack) int {
	b, err := os.ReadFile(sv.pidFile(s))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), s.Dir) {
		return 0 // gone, or the pid was reused by something else
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return 0
		}
	}
	return pid
}

func (sv *service) running(s *Stack) bool { return sv.pid(s) != 0 }

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
	cmd.Env = append(os.Environ(), sv.env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
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
	if err := os.WriteFile(sv.pidFile(s), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	// Reap it if it dies while we still run, so running() sees it gone.
	go cmd.Wait()
	s.logf("  %-14s started pid %d", sv.name, cmd.Process.Pid)
	return nil
}

// stop signals the service's process group and waits for it to exit.
func (sv *service) stop(s *Stack) error {
	pid := sv.pid(s)
	if pid == 0 {
		os.Remove(sv.pidFile(s))
		return nil
	}
	sig := sv.stopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	killGroup(pid, sig)
	deadline := time.Now().Add(30 * time.Second)
	for sv.running(s) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if sv.running(s) {
		killGroup(pid, syscall.SIGKILL)
		time.Sleep(200 * time.Millisecond)
	}
	if sv.running(s) {
		return fmt.Errorf("stop %s: pid %d still running", sv.name, pid)
	}
	os.Remove(sv.pidFile(s))
	s.logf("  %-14s stopped", sv.name)
	return nil
}

func killGroup(pid int, sig syscall.Signal) {
	if err := syscall.Kill(-pid, sig); err != nil {
		syscall.Kill(pid, sig)
	}
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
		if err != nil || !strings.Contains(string(cmdline), s.Dir+"/") {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
				continue
			}
		}
		out = append(out, pid)
	}
	return out
}

// StopService stops one named service (fault tests: a broker or MinIO node
// down) and StartService starts it again.
func (s *Stack) StopService(ctx context.Context, name string) error {
	sv, err := s.service(name)
	if err != nil {
		return err
	}
	return sv.stop(s)
}

// StartService starts one named service and waits until it is healthy.
func (s *Stack) StartService(ctx context.Context, name string) error {
	sv, err := s.service(name)
	if err != nil {
		return err
	}
	if err := sv.start(s); err != nil {
		return err
	}
	return s.waitHealthy(ctx, sv)
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

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}
