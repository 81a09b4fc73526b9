// Package proc is weir's one way to control child processes: each runs in
// a process group of its own, is signalled as a group (its children too),
// and is stopped with a signal, a grace period and then SIGKILL. It is used
// by the local stack (services), the scheduler (task processes), the demo
// and the tests that run weir. It knows nothing of what the processes are.
package proc

import (
	"errors"
	"syscall"
	"time"
)

// Session is the attribute of a process that outlives weir in a session
// (and process group) of its own: a local stack service.
func Session() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// Detached is the attribute of a process in a process group of its own,
// which neither the terminal's ^C nor weir's exit stops.
func Detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// Signal sends sig to the process group led by pid, or to pid alone when it
// leads none. A process already gone is no error.
func Signal(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if err != nil {
		err = syscall.Kill(pid, sig)
	}
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Terminate stops the process group of pid: sig (SIGTERM when 0), then,
// unless exited reports the process gone within grace, SIGKILL and another
// wait of up to killWait. It reports whether the process is gone.
func Terminate(pid int, sig syscall.Signal, grace, killWait time.Duration, exited func(within time.Duration) bool) bool {
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	_ = Signal(pid, sig)
	if exited(grace) {
		return true
	}
	_ = Signal(pid, syscall.SIGKILL)
	return exited(killWait)
}
