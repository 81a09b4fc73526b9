package main

import (
	"strings"

	"github.com/spf13/cobra"

	"weir/scheduler/admin"
	"weir/scheduler/store"
)

// newDagsCmd wires `weir dags list|validate|trigger|backfill|clear|runs|logs|pause|unpause`
// to package admin.
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
	adm := func(c *cobra.Command) *admin.Admin {
		return &admin.Admin{Load: g.load, DAGDir: dagDir, Out: c.OutOrStdout(), Err: c.ErrOrStderr()}
	}
	cmd.AddCommand(
		dagsValidateCmd(adm),
		dagsListCmd(adm),
		dagsTriggerCmd(adm),
		dagsBackfillCmd(adm),
		dagsClearCmd(adm),
		dagsRunsCmd(adm),
		dagsLogsCmd(adm),
		dagsPauseCmd(adm, true),
		dagsPauseCmd(adm, false),
	)
	return cmd
}

type adminFor func(*cobra.Command) *admin.Admin

func dagsValidateCmd(adm adminFor) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [dir or files...]",
		Short: "Check DAG files strictly (unknown keys, jobs, SQL files, cycles, cron); exit 1 if any is bad",
		Example: `  weir dags validate
  weir dags validate dags/silver_build.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error { return adm(cmd).Validate(args) },
	}
}

func dagsListCmd(adm adminFor) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List DAGs with schedule, next run and last run state",
		Example: `  weir dags list`,
		RunE:    func(cmd *cobra.Command, _ []string) error { return adm(cmd).List(cmd.Context()) },
	}
}

func dagsTriggerCmd(adm adminFor) *cobra.Command {
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
			return adm(cmd).Trigger(cmd.Context(), args[0], params, logical, wait)
		},
	}
	cmd.Flags().StringToStringVar(&params, "param", nil, "run param key=value (repeatable; must be declared in the DAG)")
	cmd.Flags().StringVar(&logical, "logical-date", "", "logical date (default now), YYYY-MM-DD or RFC 3339")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the run to finish; exit 1 if it failed")
	return cmd
}

func dagsBackfillCmd(adm adminFor) *cobra.Command {
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
			return adm(cmd).Backfill(cmd.Context(), args[0], from, to, reprocess, wait)
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

func dagsClearCmd(adm adminFor) *cobra.Command {
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
			return adm(cmd).Clear(cmd.Context(), args[0], args[1], tasks, downstream)
		},
	}
	cmd.Flags().StringSliceVar(&tasks, "task", nil, "task ids to clear (default: all)")
	cmd.Flags().BoolVar(&downstream, "downstream", false, "also clear every task downstream of them")
	return cmd
}

func dagsRunsCmd(adm adminFor) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "runs DAG",
		Short:   "Show the latest runs with their task states",
		Example: `  weir dags runs silver_build --limit 5`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return adm(cmd).Runs(cmd.Context(), args[0], limit)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "runs to show")
	return cmd
}

func dagsLogsCmd(adm adminFor) *cobra.Command {
	var try int
	cmd := &cobra.Command{
		Use:   "logs DAG RUN_ID TASK",
		Short: "Print the captured log of a task try (default: the latest)",
		Example: `  weir dags logs silver_build manual__2026-03-02T10:00:00Z silver_web_access
  weir dags logs silver_build manual__2026-03-02T10:00:00Z silver_web_access --try 1`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return adm(cmd).Logs(cmd.Context(), args[0], args[1], args[2], try)
		},
	}
	cmd.Flags().IntVar(&try, "try", 0, "try number (default: latest)")
	return cmd
}

func dagsPauseCmd(adm adminFor, pause bool) *cobra.Command {
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
			return adm(cmd).Pause(cmd.Context(), args[0], pause)
		},
	}
}
