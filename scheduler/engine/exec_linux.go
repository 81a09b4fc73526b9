package engine

import "syscall"

// jobProcAttr puts the job in its own process group (so a timeout kills its
// children too) and has the kernel SIGKILL it if the scheduler dies: a
// crashed scheduler must not leave a try running that another scheduler is
// about to retry.
func jobProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
