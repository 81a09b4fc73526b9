//go:build unix && !linux

package proc

import "syscall"

// Tied: without a parent-death signal, a crashed scheduler may leave a task
// running; only Linux is supported for production scheduling.
func Tied() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
