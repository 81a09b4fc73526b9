// Package admin is `weir dags`: validating and listing DAG files,
// triggering, backfilling and clearing runs, showing runs and task logs,
// pausing DAGs, against the scheduler's store. Each operation writes its
// report to Out; the scheduler processes do the running (engine).
//
// Changes go through engine (Trigger, Backfill, Clear, WaitRun,
// WaitBackfill) as the web UI's do; the text formats live here.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"weir/config"
	"weir/scheduler"
	"weir/scheduler/engine"
	"weir/scheduler/store"
)

// Admin runs the operations over one DAG directory and store.
type Admin struct {
	// Load returns the configuration (scheduler.database, and
	// scheduler.dag_dir when DAGDir is empty); validating named files
	// needs none.
	Load func() (config.Config, error)
	// DAGDir overrides scheduler.dag_dir when not empty.
	DAGDir   string
	Out, Err io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (a *Admin) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// dir returns the DAG directory and the configuration.
func (a *Admin) dir() (string, config.Config, error) {
	cfg, err := a.Load()
	if err != nil {
		return "", cfg, err
	}
	if a.DAGDir == "" {
		return cfg.Scheduler.DAGDir, cfg, nil
	}
	return a.DAGDir, cfg, nil
}

// open returns the DAG dagID (nil for "") and the store; the caller closes
// the store.
func (a *Admin) open(ctx context.Context, dagID string) (*scheduler.DAG, *store.Store, error) {
	dagDir, cfg, err := a.dir()
	if err != nil {
		return nil, nil, err
	}
	var d *scheduler.DAG
	if dagID != "" {
		dags, bad, err := scheduler.LoadDir(dagDir, scheduler.DefaultJobs())
		if err != nil {
			return nil, nil, err
		}
		for _, x := range dags {
			if x.ID == dagID {
				d = x
			}
		}
		if d == nil {
			for _, f := range bad {
				fmt.Fprintln(a.Err, "warning:", f)
			}
			return nil, nil, fmt.Errorf("dag %q: not found in %s", dagID, dagDir)
		}
	}
	st, err := store.Open(ctx, cfg.Scheduler.Database)
	if err != nil {
		return nil, nil, err
	}
	return d, st, nil
}

// Validate checks DAG files strictly (directories or files; none: the DAG
// directory) and fails if any is bad.
func (a *Admin) Validate(paths []string) error {
	if len(paths) == 0 && a.DAGDir != "" {
		paths = []string{a.DAGDir}
	}
	if len(paths) == 0 {
		dagDir, _, err := a.dir()
		if err != nil {
			return err
		}
		paths = []string{dagDir}
	}
	var dags []*scheduler.DAG
	var bad []scheduler.FileError
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			d, b, err := scheduler.LoadDir(p, scheduler.DefaultJobs())
			if err != nil {
				return err
			}
			dags, bad = append(dags, d...), append(bad, b...)
			continue
		}
		d, err := scheduler.LoadFile(p, scheduler.DefaultJobs())
		if err != nil {
			bad = append(bad, scheduler.FileError{File: p, Err: err})
			continue
		}
		dags = append(dags, d)
	}
	for _, d := range dags {
		fmt.Fprintf(a.Out, "ok   %s: %s (%d tasks, %s)\n", d.File, d.ID, len(d.Tasks), d.Schedule)
	}
	for _, f := range bad {
		fmt.Fprintf(a.Out, "FAIL %s:\n", f.File)
		for _, line := range strings.Split(f.Err.Error(), "\n") {
			fmt.Fprintf(a.Out, "       %s\n", line)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d DAG files invalid", len(bad), len(bad)+len(dags))
	}
	if len(dags) == 0 {
		return errors.New("no DAG files found")
	}
	return nil
}

// List shows every DAG with schedule, next run and last run state; without
// a reachable store it warns and shows the files alone.
func (a *Admin) List(ctx context.Context) error {
	dagDir, cfg, err := a.dir()
	if err != nil {
		return err
	}
	dags, bad, err := scheduler.LoadDir(dagDir, scheduler.DefaultJobs())
	if err != nil {
		return err
	}
	rows, latest := map[string]store.DAGRow{}, map[string]store.Run{}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if st, err := store.Open(sctx, cfg.Scheduler.Database); err != nil {
		fmt.Fprintln(a.Err, "warning: no run history:", err)
	} else {
		defer st.Close()
		if rows, err = st.DAGRows(ctx); err != nil {
			return err
		}
		if latest, err = st.LatestRuns(ctx); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAG\tSCHEDULE\tPAUSED\tNEXT RUN\tLAST RUN\tSTATE")
	now := a.now()
	for _, d := range dags {
		next := ""
		if t := d.NextRun(rows[d.ID].NextLogicalDate, now); !t.IsZero() {
			next = t.Format(time.RFC3339)
		}
		last := latest[d.ID]
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\n", d.ID, d.Schedule, rows[d.ID].Paused, next, last.RunID, last.State)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range bad {
		fmt.Fprintln(a.Err, "rejected:", f)
	}
	return nil
}

// Trigger queues a manual run of dagID (logical date: "" for now, else
// ParseTime's forms); with follow it prints the run's progress until it
// ends and fails if the run failed.
func (a *Admin) Trigger(ctx context.Context, dagID string, params map[string]string, logical string, follow bool) error {
	d, st, err := a.open(ctx, dagID)
	if err != nil {
		return err
	}
	defer st.Close()
	var at time.Time
	if logical != "" {
		if at, err = ParseTime(logical); err != nil {
			return fmt.Errorf("--logical-date: %w", err)
		}
	}
	run, err := engine.Trigger(ctx, st, d, params, at, a.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "queued %s (data interval %s → %s)\n", run.RunID,
		run.Interval.Start.Format(time.RFC3339), run.Interval.End.Format(time.RFC3339))
	if !follow {
		return nil
	}
	return a.waitRun(ctx, st, d, run.RunID)
}

func (a *Admin) waitRun(ctx context.Context, st *store.Store, d *scheduler.DAG, runID string) error {
	last := ""
	run, err := engine.WaitRun(ctx, st, d.ID, runID, time.Second, func(run store.Run) error {
		tis, err := st.TaskInstances(ctx, []int64{run.PK})
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s: %s", run.State, taskSummary(d, tis[run.PK]))
		if line != last {
			fmt.Fprintln(a.Out, line)
			last = line
		}
		return nil
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return err
	case run.State == scheduler.RunFailed:
		return fmt.Errorf("run %s failed", runID)
	}
	return nil
}

func taskSummary(d *scheduler.DAG, tis map[string]store.TaskInstance) string {
	var parts []string
	for _, t := range d.TopoOrder() {
		st := string(scheduler.StateNone)
		if ti, ok := tis[t.ID]; ok {
			st = string(ti.State)
		}
		parts = append(parts, t.ID+"="+st)
	}
	return strings.Join(parts, " ")
}

// ParseTime reads a date or time of the command line: YYYY-MM-DD or RFC
// 3339, UTC unless an offset is given.
func ParseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339 (UTC unless an offset is given), got %q", v)
}

// Backfill queues runs for every interval of dagID with logical date in
// [from, to) (ParseTime's forms); with follow it prints progress until
// every run ended and fails if any failed.
func (a *Admin) Backfill(ctx context.Context, dagID, from, to, reprocess string, follow bool) error {
	fromT, err := ParseTime(from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	toT, err := ParseTime(to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	d, st, err := a.open(ctx, dagID)
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := engine.Backfill(ctx, st, d, fromT, toT, reprocess, a.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "backfill %d: %d runs queued for %s (reprocess %s)\n", b.ID, b.Total, d.ID, b.Reprocess)
	if !follow || b.Total == 0 {
		return nil
	}
	start := time.Now()
	b, err = engine.WaitBackfill(ctx, st, b.ID, 2*time.Second, func(p store.Backfill) {
		done := p.Success + p.Failed
		eta := ""
		if done > 0 && done < p.Total {
			eta = fmt.Sprintf(", eta %s", (time.Since(start) / time.Duration(done) * time.Duration(p.Total-done)).Round(time.Second))
		}
		fmt.Fprintf(a.Out, "%d/%d done (%d ok, %d failed, %d running, %d queued)%s\n",
			done, p.Total, p.Success, p.Failed, p.Running, p.Queued, eta)
	})
	if err != nil {
		return err
	}
	if b.Failed > 0 {
		return fmt.Errorf("backfill %d: %d of %d runs failed", b.ID, b.Failed, b.Total)
	}
	return nil
}

// Clear re-runs tasks of a run: all, or tasks (with downstream, every task
// downstream of them too).
func (a *Admin) Clear(ctx context.Context, dagID, runID string, tasks []string, downstream bool) error {
	d, st, err := a.open(ctx, dagID)
	if err != nil {
		return err
	}
	defer st.Close()
	cleared, err := engine.Clear(ctx, st, d, runID, tasks, downstream)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "cleared %s in %s\n", strings.Join(cleared, ", "), runID)
	return nil
}

// Runs shows the latest limit runs of dagID with their task states.
func (a *Admin) Runs(ctx context.Context, dagID string, limit int) error {
	d, st, err := a.open(ctx, dagID)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(ctx, d.ID, limit)
	if err != nil {
		return err
	}
	pks := make([]int64, len(runs))
	for i, r := range runs {
		pks[i] = r.PK
	}
	tis, err := st.TaskInstances(ctx, pks)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tTYPE\tSTATE\tDATA INTERVAL\tTASKS")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s → %s\t%s\n", r.RunID, r.RunType, r.State,
			r.Interval.Start.Format(time.RFC3339), r.Interval.End.Format(time.RFC3339), taskSummary(d, tis[r.PK]))
	}
	return tw.Flush()
}

// Logs prints the captured log of a task's try (try 0: the latest).
func (a *Admin) Logs(ctx context.Context, dagID, runID, task string, try int) error {
	_, st, err := a.open(ctx, "")
	if err != nil {
		return err
	}
	defer st.Close()
	run, err := st.Run(ctx, dagID, runID)
	if err != nil {
		return err
	}
	tries, err := st.Tries(ctx, run.PK, task)
	if err != nil {
		return err
	}
	if len(tries) == 0 {
		return fmt.Errorf("task %s of %s: no try yet", task, runID)
	}
	sort.Slice(tries, func(i, j int) bool { return tries[i].TryNumber < tries[j].TryNumber })
	t := tries[len(tries)-1]
	if try > 0 {
		if try > len(tries) {
			return fmt.Errorf("task %s has %d tries", task, len(tries))
		}
		t = tries[try-1]
	}
	fmt.Fprintf(a.Out, "# try %d/%d %s by %s, started %s", t.TryNumber, len(tries), t.State, t.Owner, t.StartedAt.Format(time.RFC3339))
	if t.Error != "" {
		fmt.Fprintf(a.Out, ", error: %s", t.Error)
	}
	fmt.Fprintln(a.Out)
	fmt.Fprint(a.Out, t.Log)
	return nil
}

// Pause stops (pause) or resumes (!pause) the scheduled runs of dagID.
func (a *Admin) Pause(ctx context.Context, dagID string, pause bool) error {
	_, st, err := a.open(ctx, "")
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SetPaused(ctx, dagID, pause); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "%s: paused=%v\n", dagID, pause)
	return nil
}
