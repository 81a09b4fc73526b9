//go:build unix && !linux

package engine

import (
	"os"
	"syscall"
)

// jobProcAttr: without a parent-death signal, a crashed scheduler may leave
// a job running; only Linux is supported for production scheduling.
func jobProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int, sig syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Signal(sig)
	}
}
