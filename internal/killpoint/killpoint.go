// Package killpoint lets fault tests kill a weir process at a named point
// of its work, exactly as kill -9 would: nothing is flushed or closed.
// The points are the jobs' own (stream.Crash*, archive.Crash*) and those
// inside every catalog commit (lakehouse.Point*). Production never sets
// WEIR_KILL_POINT; a process without it gets a nil hook.
package killpoint

import (
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// At returns a hook that SIGKILLs the process the nth time point is
// reached (n < 1 means the first).
func At(point string, n int) func(string) {
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

// FromEnv returns At(WEIR_KILL_POINT, WEIR_KILL_AFTER), or nil when
// WEIR_KILL_POINT is not set.
func FromEnv() func(string) {
	point := os.Getenv("WEIR_KILL_POINT")
	if point == "" {
		return nil
	}
	n, _ := strconv.Atoi(os.Getenv("WEIR_KILL_AFTER"))
	return At(point, n)
}
