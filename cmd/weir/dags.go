package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"weir/scheduler"
	"weir/scheduler/engine"
	"weir/scheduler/store"
)

// newDagsCmd wires `weir dags list|validate|trigger|backfill|clear|runs|logs|pause|unpause`.
func newDagsCmd(g *globals) *cobra.Command {
	var dagDir string
	cmd := &cobra.Command{
		Use:   "dags",
		Short: "Validate, list, trigger, backfill and inspect DAGs",
		Example: `  weir dags validate
  weir dags list
  weir dags trigger silver_build --wait`,
	}
	cmd.PersistentFlags().StringVar(&dagDir, "dags", "", "DAG directory (default scheduler.dag_dir)")

	// env opens what a subcommand needs: the DAG (by id) and the store.
	env := func(ctx context.Context, dagID string) (*scheduler.DAG, *store.Store, error) {
		cfg, err := g.load()
		if err != nil {
			return nil, nil, err
		}
		if dagDir == "" {
			dagDir = cfg.Scheduler.DAGDir
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
					fmt.Fprintln(os.Stderr, "warning:", f)
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

	cmd.AddCommand(
		dagsValidateCmd(g, &dagDir),
		dagsListCmd(g, &dagDir),
		dagsTriggerCmd(env),
		dagsBackfillCmd(env),
		dagsClearCmd(env),
		dagsRunsCmd(env),
		dagsLogsCmd(env),
		dagsPauseCmd(env, true),
		dagsPauseCmd(env, false),
	)
	return cmd
}

type dagEnv func(ctx context.Context, dagID string) (*scheduler.DAG, *store.Store, error)

func dagsValidateCmd(g *globals, dagDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [dir or files...]",
		Short: "Check DAG files strictly (unknown keys, jobs, SQL files, cycles, cron); exit 1 if any is bad",
		Example: `  weir dags validate
  weir dags validate dags/silver_build.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				if *dagDir == "" {
					cfg, err := g.load()
					if err != nil {
						return err
					}
					*dagDir = cfg.Scheduler.DAGDir
				}
				args = []string{*dagDir}
			}
			out := cmd.OutOrStdout()
			var dags []*scheduler.DAG
			var bad []scheduler.FileError
			for _, a := range args {
				if fi, err := os.Stat(a); err == nil && fi.IsDir() {
					d, b, err := scheduler.LoadDir(a, scheduler.DefaultJobs())
					if err != nil {
						return err
					}
					dags, bad = append(dags, d...), append(bad, b...)
					continue
				}
				d, err := scheduler.LoadFile(a, scheduler.DefaultJobs())
				if err != nil {
					bad = append(bad, scheduler.FileError{File: a, Err: err})
					continue
				}
				dags = append(dags, d)
			}
			for _, d := range dags {
				fmt.Fprintf(out, "ok   %s: %s (%d tasks, %s)\n", d.File, d.ID, len(d.Tasks), d.Schedule)
			}
			for _, f := range bad {
				fmt.Fprintf(out, "FAIL %s:\n", f.File)
				for _, line := range strings.Split(f.Err.Error(), "\n") {
					fmt.Fprintf(out, "       %s\n", line)
				}
			}
			if len(bad) > 0 {
				return fmt.Errorf("%d of %d DAG files invalid", len(bad), len(bad)+len(dags))
			}
			if len(dags) == 0 {
				return errors.New("no DAG files found")
			}
			return nil
		},
	}
}

func dagsListCmd(g *globals, dagDir *string) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List DAGs with schedule, next run and last run state",
		Example: `  weir dags list`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if *dagDir == "" {
				*dagDir = cfg.Scheduler.DAGDir
			}
			dags, bad, err := scheduler.LoadDir(*dagDir, scheduler.DefaultJobs())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rows, latest := map[string]store.DAGRow{}, map[string]store.Run{}
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if st, err := store.Open(sctx, cfg.Scheduler.Database); err != nil {
				fmt.Fprintln(os.Stderr, "warning: no run history:", err)
			} else {
				defer st.Close()
				if rows, err = st.DAGRows(ctx); err != nil {
					return err
				}
				if latest, err = st.LatestRuns(ctx); err != nil {
					return err
				}
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DAG\tSCHEDULE\tPAUSED\tNEXT RUN\tLAST RUN\tSTATE")
			now := time.Now()
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
				fmt.Fprintln(cmd.ErrOrStderr(), "rejected:", f)
			}
			return nil
		},
	}
}

func dagsTriggerCmd(env dagEnv) *cobra.Command {
	var (
		params  map[string]string
		logical string
		wait    bool
	)
	cmd := &cobra.Command{
		Use:   "trigger DAG",
		Short: "Queue a manual run (the scheduler runs it); --wait follows it to the end",
		Example: `  weir dags trigger silver_build --wait
  weir dags trigger gold_views --logical-date 2026-03-02`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			d, st, err := env(ctx, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			var at time.Time
			if logical != "" {
				if at, err = parseCLITime(logical); err != nil {
					return fmt.Errorf("--logical-date: %w", err)
				}
			}
			run, err := engine.Trigger(ctx, st, d, params, at, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "queued %s (data interval %s → %s)\n", run.RunID,
				run.Interval.Start.Format(time.RFC3339), run.Interval.End.Format(time.RFC3339))
			if !wait {
				return nil
			}
			return waitRun(ctx, cmd, st, d, run.RunID)
		},
	}
	cmd.Flags().StringToStringVar(&params, "param", nil, "run param key=value (repeatable; must be declared in the DAG)")
	cmd.Flags().StringVar(&logical, "logical-date", "", "logical date (default now), YYYY-MM-DD or RFC 3339")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the run to finish; exit 1 if it failed")
	return cmd
}

func waitRun(ctx context.Context, cmd *cobra.Command, st *store.Store, d *scheduler.DAG, runID string) error {
	last := ""
	run, err := engine.WaitRun(ctx, st, d.ID, runID, time.Second, func(run store.Run) error {
		tis, err := st.TaskInstances(ctx, []int64{run.PK})
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s: %s", run.State, taskSummary(d, tis[run.PK]))
		if line != last {
			fmt.Fprintln(cmd.OutOrStdout(), line)
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

func parseCLITime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339 (UTC unless an offset is given), got %q", v)
}

func dagsBackfillCmd(env dagEnv) *cobra.Command {
	var (
		from, to, reprocess string
		wait                bool
	)
	cmd := &cobra.Command{
		Use:   "backfill DAG --from DATE --to DATE",
		Short: "Queue runs for every interval with logical date in [from, to); --wait shows progress",
		Example: `  weir dags backfill archive --from 2026-03-01 --to 2026-03-08 --wait
  weir dags backfill silver_build --from 2026-03-01 --to 2026-03-02 --reprocess failed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			fromT, err := parseCLITime(from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			toT, err := parseCLITime(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			d, st, err := env(ctx, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			b, err := engine.Backfill(ctx, st, d, fromT, toT, reprocess, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backfill %d: %d runs queued for %s (reprocess %s)\n", b.ID, b.Total, d.ID, b.Reprocess)
			if !wait || b.Total == 0 {
				return nil
			}
			start := time.Now()
			b, err = engine.WaitBackfill(ctx, st, b.ID, 2*time.Second, func(p store.Backfill) {
				done := p.Success + p.Failed
				eta := ""
				if done > 0 && done < p.Total {
					eta = fmt.Sprintf(", eta %s", (time.Since(start) / time.Duration(done) * time.Duration(p.Total-done)).Round(time.Second))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d/%d done (%d ok, %d failed, %d running, %d queued)%s\n",
					done, p.Total, p.Success, p.Failed, p.Running, p.Queued, eta)
			})
			if err != nil {
				return err
			}
			if b.Failed > 0 {
				return fmt.Errorf("backfill %d: %d of %d runs failed", b.ID, b.Failed, b.Total)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first logical date (inclusive)")
	cmd.Flags().StringVar(&to, "to", "", "end of the range (exclusive)")
	cmd.Flags().StringVar(&reprocess, "reprocess", store.ReprocessNone, "intervals with a run already: none (keep), failed (re-run failed), all (re-run)")
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress until every run finished; exit 1 if any failed")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func dagsClearCmd(env dagEnv) *cobra.Command {
	var (
		tasks      []string
		downstream bool
	)
	cmd := &cobra.Command{
		Use:   "clear DAG RUN_ID",
		Short: "Re-run tasks of a run (all, or --task with --downstream)",
		Example: `  weir dags clear silver_build manual__2026-03-02T10:00:00Z
  weir dags clear silver_build manual__2026-03-02T10:00:00Z --task silver_web_access --downstream`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			d, st, err := env(ctx, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			cleared, err := engine.Clear(ctx, st, d, args[1], tasks, downstream)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cleared %s in %s\n", strings.Join(cleared, ", "), args[1])
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&tasks, "task", nil, "task ids to clear (default: all)")
	cmd.Flags().BoolVar(&downstream, "downstream", false, "also clear every task downstream of them")
	return cmd
}

func dagsRunsCmd(env dagEnv) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "runs DAG",
		Short:   "Show the latest runs with their task states",
		Example: `  weir dags runs silver_build --limit 5`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			d, st, err := env(ctx, args[0])
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
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN ID\tTYPE\tSTATE\tDATA INTERVAL\tTASKS")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s → %s\t%s\n", r.RunID, r.RunType, r.State,
					r.Interval.Start.Format(time.RFC3339), r.Interval.End.Format(time.RFC3339), taskSummary(d, tis[r.PK]))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "runs to show")
	return cmd
}

func dagsLogsCmd(env dagEnv) *cobra.Command {
	var try int
	cmd := &cobra.Command{
		Use:   "logs DAG RUN_ID TASK",
		Short: "Print the captured log of a task try (default: the latest)",
		Example: `  weir dags logs silver_build manual__2026-03-02T10:00:00Z silver_web_access
  weir dags logs silver_build manual__2026-03-02T10:00:00Z silver_web_access --try 1`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			_, st, err := env(ctx, "")
			if err != nil {
				return err
			}
			defer st.Close()
			run, err := st.Run(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			tries, err := st.Tries(ctx, run.PK, args[2])
			if err != nil {
				return err
			}
			if len(tries) == 0 {
				return fmt.Errorf("task %s of %s: no try yet", args[2], args[1])
			}
			sort.Slice(tries, func(i, j int) bool { return tries[i].TryNumber < tries[j].TryNumber })
			t := tries[len(tries)-1]
			if try > 0 {
				if try > len(tries) {
					return fmt.Errorf("task %s has %d tries", args[2], len(tries))
				}
				t = tries[try-1]
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "# try %d/%d %s by %s, started %s", t.TryNumber, len(tries), t.State, t.Owner, t.StartedAt.Format(time.RFC3339))
			if t.Error != "" {
				fmt.Fprintf(out, ", error: %s", t.Error)
			}
			fmt.Fprintln(out)
			fmt.Fprint(out, t.Log)
			return nil
		},
	}
	cmd.Flags().IntVar(&try, "try", 0, "try number (default: latest)")
	return cmd
}

func dagsPauseCmd(env dagEnv, pause bool) *cobra.Command {
	use, short := "unpause DAG", "Resume scheduled runs of a DAG"
	if pause {
		use, short = "pause DAG", "Stop creating scheduled runs of a DAG (manual runs and backfills still run)"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  weir dags " + strings.Replace(use, "DAG", "maintenance", 1),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, err := env(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.SetPaused(cmd.Context(), args[0], pause); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: paused=%v\n", args[0], pause)
			return nil
		},
	}
}
