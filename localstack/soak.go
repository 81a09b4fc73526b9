package localstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// PrivateStackDir makes a new stack directory, 0700 under a new 0700
// parent in the temporary directory: what a root user's clone in a private
// home looks like to the postgres user. The caller removes parent.
func PrivateStackDir(prefix string) (parent, dir string, err error) {
	parent, err = os.MkdirTemp("", prefix) // MkdirTemp makes it 0700
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(parent, "stack")
	if err := os.Mkdir(dir, 0o700); err != nil {
		os.RemoveAll(parent)
		return "", "", err
	}
	return parent, dir, nil
}

// Cycle is one up/down cycle of a fresh stack.
type Cycle struct {
	Dir        string  `json:"dir"`
	PortOffset int     `json:"port_offset"`
	UpSeconds  float64 `json:"up_s"`
	DownSecs   float64 `json:"down_s"`
	Error      string  `json:"error,omitempty"`
}

// FreshCycle starts a single stack in a new private directory (see
// PrivateStackDir) on the first free port offset at or above fromOffset,
// checks that every service is healthy, removes the stack, and checks that
// no process of it is left, none of its ports listens and neither its
// directory nor its PostgreSQL home remains. It does not run weir init.
func FreshCycle(ctx context.Context, cache string, fromOffset int, out io.Writer) (Cycle, error) {
	offset, err := FreePortOffset(Single, fromOffset, fromOffset+10000, 500)
	if err != nil {
		return Cycle{}, err
	}
	parent, dir, err := PrivateStackDir("weir-fresh-")
	if err != nil {
		return Cycle{}, err
	}
	c := Cycle{Dir: dir, PortOffset: offset}
	s, err := New(dir, cache, Single, out)
	if err != nil {
		return c, err
	}
	s.PortOffset = offset
	pgHome := s.pgLayout().home
	start := time.Now()
	upErr := s.Up(ctx)
	c.UpSeconds = time.Since(start).Seconds()
	if upErr == nil {
		upErr = s.Status(ctx, io.Discard)
	}
	if upErr != nil {
		// Stopped, but kept with its logs for a look.
		if err := s.Down(context.Background()); err != nil {
			upErr = fmt.Errorf("%w; and down: %v", upErr, err)
		}
		return c, fmt.Errorf("up (stack kept in %s): %w", dir, upErr)
	}
	start = time.Now()
	downErr := s.Remove(context.Background())
	c.DownSecs = time.Since(start).Seconds()
	if downErr != nil {
		return c, fmt.Errorf("down: %w", downErr)
	}
	if left := s.Processes(); len(left) > 0 {
		return c, fmt.Errorf("processes left after down: %v", left)
	}
	if busy := busyAddr(s.listenAddrs()); busy != "" {
		return c, fmt.Errorf("%s still in use after down by %s", busy, portHolder(busy))
	}
	for _, p := range []string{dir, pgHome} {
		if _, err := os.Lstat(p); p != "" && err == nil {
			return c, fmt.Errorf("%s left after down", p)
		}
	}
	return c, os.Remove(parent)
}

// SoakResult is what Soak measured.
type SoakResult struct {
	Cycles   int     `json:"cycles"` // asked for
	Done     int     `json:"done"`   // run so far
	Failures int     `json:"failures"`
	UpP50    float64 `json:"up_p50_s"`
	UpP95    float64 `json:"up_p95_s"`
	UpFirst  float64 `json:"up_first_s"` // the first cycle, the coldest (page cache, JIT)
	DownP50  float64 `json:"down_p50_s"`
	Runs     []Cycle `json:"runs"`
}

// Soak runs cycles FreshCycles one after the other; after each it passes
// the summary so far to progress (so an interrupted soak still leaves its
// figures). Up and down figures are over the cycles that succeeded.
func Soak(ctx context.Context, cycles int, cache string, fromOffset int, out io.Writer, progress func(SoakResult) error) (SoakResult, error) {
	r := SoakResult{Cycles: cycles}
	var ups, downs []float64
	for i := 1; i <= cycles && ctx.Err() == nil; i++ {
		c, err := FreshCycle(ctx, cache, fromOffset, out)
		if err != nil {
			c.Error = err.Error()
			r.Failures++
			fmt.Fprintf(out, "soak cycle %d/%d FAILED: %v\n", i, cycles, err)
		} else {
			ups = append(ups, c.UpSeconds)
			downs = append(downs, c.DownSecs)
			fmt.Fprintf(out, "soak cycle %d/%d ok: up %.1f s, down %.1f s\n", i, cycles, c.UpSeconds, c.DownSecs)
		}
		if i == 1 {
			r.UpFirst = c.UpSeconds
		}
		r.Runs = append(r.Runs, c)
		r.Done = i
		r.UpP50, r.UpP95 = percentile(ups, 50), percentile(ups, 95)
		r.DownP50 = percentile(downs, 50)
		if err := progress(r); err != nil {
			return r, err
		}
	}
	return r, ctx.Err()
}

// percentile is the nearest-rank percentile of xs, 0 for none.
func percentile(xs []float64, p int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

// SharedCache is the download cache a test's own stack shares with the
// others, so it installs nothing again: WEIR_CACHE_DIR, else the default
// stack's cache (WEIR_STACK_DIR, else repo/.stack).
func SharedCache(repo string) string {
	if c := os.Getenv("WEIR_CACHE_DIR"); c != "" {
		return c
	}
	if d := os.Getenv("WEIR_STACK_DIR"); d != "" {
		return filepath.Join(d, "cache")
	}
	return filepath.Join(repo, ".stack", "cache")
}
