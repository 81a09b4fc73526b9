package stacktest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"weir/proc"
)

// Process is a child a test started (weir, or a peer system): in a process
// group of its own (proc.Detached), its output in a log file, killed when
// the test ends.
type Process struct {
	Cmd *exec.Cmd
	// Log is the path of the file the process writes its output to.
	Log  string
	done chan struct{}
	err  error
}

// LogDir is where a test's process logs go: $WEIR_TEST_LOGS when set (they
// are kept there), else a directory the test removes.
func LogDir(t testing.TB) string {
	if dir := os.Getenv("WEIR_TEST_LOGS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// StartWeir starts the weir binary (Weir) with args and, besides the test
// process's environment, env; its output goes to <LogDir>/<name>.log.
func StartWeir(t testing.TB, name string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(Weir(t), args...)
	cmd.Env = append(os.Environ(), env...)
	return Start(t, cmd, filepath.Join(LogDir(t), name+".log"))
}

// Start starts cmd with its output to the file logPath (created), and
// kills its process group when the test ends (showing the end of its
// output when the test failed).
func Start(t testing.TB, cmd *exec.Cmd, logPath string) *Process {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = proc.Detached()
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s (log %s) ended with:\n%s", p.name(), p.Log, Tail(p.Output(), 2000))
		}
	})
	return p
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (cmd.Wait's error), once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Pid is the process's id (and its process group's).
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Signal sends sig to the process's group (proc.Signal).
func (p *Process) Signal(sig syscall.Signal) error { return proc.Signal(p.Pid(), sig) }

// Kill SIGKILLs the process group, unless the process already exited, and
// waits for the exit.
func (p *Process) Kill() {
	select {
	case <-p.done:
	default:
		_ = p.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Stop terminates the process group (Terminate) and fails the test unless
// the process exited cleanly on SIGTERM within grace.
func (p *Process) Stop(t testing.TB, grace time.Duration) {
	t.Helper()
	switch clean, gone := p.Terminate(grace); {
	case !gone:
		t.Fatalf("%s survived SIGKILL; log %s", p.name(), p.Log)
	case !clean:
		t.Fatalf("%s did not stop on SIGTERM; log %s", p.name(), p.Log)
	case p.err != nil:
		t.Fatalf("%s exited with %v:\n%s", p.name(), p.err, Tail(p.Output(), 3000))
	}
}

// Terminate stops the process group with proc.Terminate: SIGTERM, then
// SIGKILL unless the process exited within grace. It reports whether the
// process exited within grace and whether it is gone.
func (p *Process) Terminate(grace time.Duration) (withinGrace, gone bool) {
	withinGrace = true
	exited := func(within time.Duration) bool {
		select {
		case <-p.done:
			return true
		case <-time.After(within):
			withinGrace = false
			return false
		}
	}
	gone = proc.Terminate(p.Pid(), syscall.SIGTERM, grace, time.Minute, exited)
	return withinGrace, gone
}

func (p *Process) name() string {
	if len(p.Cmd.Args) > 1 && filepath.Base(p.Cmd.Path) == "weir" {
		return "weir " + p.Cmd.Args[1]
	}
	return filepath.Base(p.Cmd.Path)
}

// Output is what the process has written to its log so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// WaitLog waits until the process's log contains substr; it fails the test
// when the process exits first or timeout passes.
func (p *Process) WaitLog(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, 200*time.Millisecond, func() (bool, error) {
		if strings.Contains(p.Output(), substr) {
			return true, nil
		}
		select {
		case <-p.done:
			return false, fmt.Errorf("%s exited (%v) before logging %q:\n%s", p.name(), p.err, substr, Tail(p.Output(), 3000))
		default:
			return false, nil
		}
	}, func() string {
		return fmt.Sprintf("no %q in the %s log after %s:\n%s", substr, p.name(), timeout, Tail(p.Output(), 3000))
	})
}

// Tail is the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// KilledBySIGKILL reports whether a process ended by SIGKILL (err is its
// cmd.Wait error).
func KilledBySIGKILL(err error) bool { return killedBy(err, syscall.SIGKILL) }

func killedBy(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}
