package stream

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// StallAt returns a Config.Hook that blocks for d the nth time point is
// reached (n < 1 means the first): a stall of the committing goroutine, as
// with a long GC pause or a hung connection, while the consumer side goes on.
func StallAt(point string, n int, d time.Duration) func(string) {
	var hits atomic.Int64
	return func(p string) {
		if p != point {
			return
		}
		if hits.Add(1) == int64(max(n, 1)) {
			slog.Warn("stall hook: stalling the commit", "point", p, "for", d)
			time.Sleep(d)
		}
	}
}

// Hooks calls every non-nil hook in order.
func Hooks(hooks ...func(string)) func(string) {
	return func(p string) {
		for _, h := range hooks {
			if h != nil {
				h(p)
			}
		}
	}
}
