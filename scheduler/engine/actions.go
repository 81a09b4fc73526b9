package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"weir/scheduler"
	"weir/scheduler/store"
	"weir/wait"
)

// Trigger queues a manual run of d. params override the DAG's declared
// params (an undeclared one is an error, as a typo would otherwise be
// silently ignored); logical is the logical date (zero: now). The data
// interval is the latest complete one at the logical date.
func Trigger(ctx context.Context, st *store.Store, d *scheduler.DAG, params map[string]string, logical, now time.Time) (store.Run, error) {
	merged := map[string]string{}
	for k, v := range d.Params {
		merged[k] = v
	}
	var unknown []string
	for k, v := range params {
		if _, ok := d.Params[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		merged[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return store.Run{}, fmt.Errorf("trigger %s: unknown params %s (declared: %s)", d.ID,
			strings.Join(unknown, ", "), strings.Join(sortedKeys(d.Params), ", "))
	}
	if logical.IsZero() {
		logical = now
	}
	logical = logical.UTC()
	r := store.Run{DAGID: d.ID, RunID: "manual__" + logical.Format(time.RFC3339Nano), RunType: store.RunManual,
		LogicalDate: logical, Interval: d.ManualInterval(logical), Params: merged}
	return st.CreateRun(ctx, r, now)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Clear resets tasks of a run (all of them when taskIDs is empty), and with
// downstream every task after them, so they run again with a fresh budget of
// retries. It returns the cleared task ids.
func Clear(ctx context.Context, st *store.Store, d *scheduler.DAG, runID string, taskIDs []string, downstream bool) ([]string, error) {
	if len(taskIDs) == 0 {
		for _, t := range d.TopoOrder() {
			taskIDs = append(taskIDs, t.ID)
		}
	}
	for _, id := range taskIDs {
		if d.Task(id) == nil {
			return nil, fmt.Errorf("clear %s: unknown task %q", d.ID, id)
		}
	}
	if downstream {
		taskIDs = d.WithDownstream(taskIDs)
	}
	if err := st.ClearTasks(ctx, d.ID, runID, budget(d, taskIDs)); err != nil {
		return nil, fmt.Errorf("clear %s/%s: %w", d.ID, runID, err)
	}
	return taskIDs, nil
}

func budget(d *scheduler.DAG, ids []string) map[string]int {
	out := map[string]int{}
	for _, id := range ids {
		out[id] = d.Task(id).Retries + 1
	}
	return out
}

// Backfill queues runs for every complete interval whose logical date is in
// [from, to). Intervals that already have a run keep it unless reprocess
// (store.ReprocessNone, ReprocessFailed, ReprocessAll) says to re-run it.
func Backfill(ctx context.Context, st *store.Store, d *scheduler.DAG, from, to time.Time, reprocess string, now time.Time) (store.Backfill, error) {
	switch reprocess {
	case store.ReprocessNone, store.ReprocessFailed, store.ReprocessAll:
	default:
		return store.Backfill{}, fmt.Errorf("backfill %s: reprocess: want none, failed or all, got %q", d.ID, reprocess)
	}
	ivs, err := d.BackfillIntervals(from, to, now)
	if err != nil {
		return store.Backfill{}, fmt.Errorf("backfill %s: %w", d.ID, err)
	}
	runs := make([]store.Run, len(ivs))
	for i, iv := range ivs {
		runs[i] = store.Run{DAGID: d.ID, RunID: "backfill__" + iv.Start.Format(time.RFC3339), RunType: store.RunBackfill,
			LogicalDate: iv.Start, Interval: iv, Params: d.Params}
	}
	var all []string
	for _, t := range d.Tasks {
		all = append(all, t.ID)
	}
	b, err := st.CreateBackfill(ctx, store.Backfill{DAGID: d.ID, From: from.UTC(), To: to.UTC(), Reprocess: reprocess},
		runs, budget(d, all), now)
	if err != nil {
		return store.Backfill{}, fmt.Errorf("backfill %s: %w", d.ID, err)
	}
	return b, nil
}

// WaitBackfill polls a backfill every interval, calling progress on each
// change, until all its runs finished or ctx ends.
func WaitBackfill(ctx context.Context, st *store.Store, id int64, every time.Duration, progress func(store.Backfill)) (store.Backfill, error) {
	var b, last store.Backfill
	first := true
	err := wait.Until(ctx, every, func(ctx context.Context) error {
		var err error
		if b, err = st.BackfillProgress(ctx, id); err != nil {
			return wait.Stop(err)
		}
		if first || b != last {
			progress(b)
		}
		first, last = false, b
		if b.Done() {
			return nil
		}
		return fmt.Errorf("backfill %d: %d of %d runs finished", id, b.Success+b.Failed, b.Total)
	})
	return b, err
}

// WaitRun polls the run every interval until it has finished (success or
// failed) and returns it; each, when not nil, sees every state read and
// may end the wait with an error. A failed run is returned, not an error.
func WaitRun(ctx context.Context, st *store.Store, dagID, runID string, interval time.Duration, each func(store.Run) error) (store.Run, error) {
	var run store.Run
	err := wait.Until(ctx, interval, func(ctx context.Context) error {
		var err error
		if run, err = st.Run(ctx, dagID, runID); err != nil {
			return wait.Stop(err)
		}
		if each != nil {
			if err := each(run); err != nil {
				return wait.Stop(err)
			}
		}
		if run.State == scheduler.RunSuccess || run.State == scheduler.RunFailed {
			return nil
		}
		return fmt.Errorf("run %s/%s is %s", dagID, runID, run.State)
	})
	return run, err
}
