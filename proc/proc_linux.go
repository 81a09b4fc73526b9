package proc

import "syscall"

// Tied is the attribute of a process in a process group of its own that the
// kernel SIGKILLs when the thread that started it exits (the caller keeps
// that goroutine on its thread with runtime.LockOSThread until the child is
// gone): a crashed scheduler must not leave a task running that another
// scheduler is about to retry.
func Tied() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
