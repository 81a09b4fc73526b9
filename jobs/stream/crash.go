package stream

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
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

// FaultHook is the Config.Hook of a weir stream process: the stall that
// WEIR_STREAM_STALL_POINT, _AFTER and _FOR (a duration) ask for, then kill
// (the lakehouse's kill-point hook). Nil when there is neither, as in
// production.
func FaultHook(kill func(string)) (func(string), error) {
	var stall func(string)
	if point := os.Getenv("WEIR_STREAM_STALL_POINT"); point != "" {
		n, _ := strconv.Atoi(os.Getenv("WEIR_STREAM_STALL_AFTER"))
		d, err := time.ParseDuration(os.Getenv("WEIR_STREAM_STALL_FOR"))
		if err != nil {
			return nil, fmt.Errorf("WEIR_STREAM_STALL_FOR: %w", err)
		}
		stall = StallAt(point, n, d)
	}
	if stall == nil && kill == nil {
		return nil, nil
	}
	return Hooks(stall, kill), nil
}
