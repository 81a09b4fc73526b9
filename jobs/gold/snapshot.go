package gold

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// refreshSnapshots takes again every snapshot of defs that this Runner
// has not taken (Apply did, or an earlier Refresh) within its Every, up to
// Parallel at a time. A Runner that starts takes each once, so a snapshot
// is at most Every old where one Runner refreshes in a loop (follow mode),
// and as old as the refresh schedule where each refresh is a new process.
func (r *Runner) refreshSnapshots(ctx context.Context, defs []*Definition) ([]Result, error) {
	var results []Result
	due := map[int]*Definition{} // by index into results
	for _, d := range defs {
		if d.Kind != KindSnapshot {
			continue
		}
		r.mu.Lock()
		last, ok := r.taken[d.Name]
		r.mu.Unlock()
		if !ok || r.now().Sub(last) >= d.Every {
			due[len(results)] = d
		}
		results = append(results, Result{Name: d.Name, Kind: KindSnapshot, Change: Unchanged})
	}
	errs := make([]error, len(results))
	var g errgroup.Group
	g.SetLimit(r.parallel())
	for i, d := range due {
		g.Go(func() error {
			res, start := &results[i], time.Now()
			res.Change = Refreshed
			if err := r.snapshot(ctx, d); err != nil {
				res.Change, res.Reason = Failed, firstLine(err.Error())
				errs[i] = fmt.Errorf("refresh gold.%s: %w", d.Name, err)
			}
			res.Duration = time.Since(start)
			r.log().Info("gold refresh", "name", d.Name, "change", res.Change, "reason", res.Reason, "took", res.Duration.Round(time.Millisecond))
			return nil
		})
	}
	g.Wait()
	return results, errors.Join(errs...)
}

// snapshot runs a snapshot's query into its table, replacing the answer
// in one commit (readers see the old one until then), and notes when.
func (r *Runner) snapshot(ctx context.Context, d *Definition) error {
	at := r.now()
	if err := r.create(ctx, d, r.Target.fingerprint(d)); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.taken == nil {
		r.taken = map[string]time.Time{}
	}
	r.taken[d.Name] = at
	return nil
}
