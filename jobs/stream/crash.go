package stream

import (
	"sync/atomic"
	"syscall"
)

// KillAt returns a Config.Crash hook that SIGKILLs the process the nth time
// point is reached (n < 1 means the first). Fault tests use it to crash the
// job deterministically around the catalog commit; nothing is flushed or
// closed, exactly as with an external kill -9.
func KillAt(point string, n int) func(string) {
	var hits atomic.Int64
	return func(p string) {
		if p != point {
			return
		}
		if hits.Add(1) >= int64(max(n, 1)) {
			_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
