package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	notYet, fatal := errors.New("not yet"), errors.New("fatal")
	cases := []struct {
		name      string
		results   []error
		timeout   time.Duration
		wantCalls int
		wantIs    []error
	}{
		{"at once", []error{nil}, time.Second, 1, nil},
		{"third time", []error{notYet, notYet, nil}, time.Second, 3, nil},
		{"stop", []error{notYet, Stop(fatal)}, time.Second, 2, []error{fatal}},
		{"timeout keeps the reason", []error{notYet}, 20 * time.Millisecond, -1, []error{notYet, context.DeadlineExceeded}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			calls := 0
			err := Until(ctx, time.Millisecond, func(context.Context) error {
				calls++
				if calls > len(c.results) {
					return c.results[len(c.results)-1]
				}
				return c.results[calls-1]
			})
			if c.wantCalls >= 0 && calls != c.wantCalls {
				t.Errorf("calls = %d, want %d", calls, c.wantCalls)
			}
			if len(c.wantIs) == 0 && err != nil {
				t.Errorf("err = %v", err)
			}
			for _, w := range c.wantIs {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want it to wrap %v", err, w)
				}
			}
		})
	}
}
