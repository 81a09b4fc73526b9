// Package wait is weir's one poll loop: call a check until it passes, it
// fails for good, or the context ends. Callers bound the wait with a
// context deadline. It knows nothing of what is waited for.
package wait

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Until calls fn at once and then every interval until fn returns nil (done)
// or an error made with Stop (given up: Until returns the wrapped error), or
// ctx ends. A non-nil error from fn means "not yet" and says why; when ctx
// ends, Until returns the last such error together with ctx's.
func Until(ctx context.Context, interval time.Duration, fn func(ctx context.Context) error) error {
	t := time.NewTimer(0)
	defer t.Stop()
	var last error
	for {
		select {
		case <-ctx.Done():
			if last == nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w (%w)", last, ctx.Err())
		case <-t.C:
		}
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var s stopError
		if errors.As(err, &s) {
			return s.err
		}
		last = err
		t.Reset(interval)
	}
}

// Stop marks err as final: Until returns it at once instead of trying again.
func Stop(err error) error {
	if err == nil {
		return nil
	}
	return stopError{err}
}

type stopError struct{ err error }

func (s stopError) Error() string { return s.err.Error() }
func (s stopError) Unwrap() error { return s.err }
