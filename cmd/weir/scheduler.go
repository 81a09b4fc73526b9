package main

import (
	"github.com/spf13/cobra"

	"weir/scheduler/engine"
	"weir/scheduler/service"
)

// newSchedulerCmd wires `weir scheduler`: the DAG engine and its web UI.
func newSchedulerCmd(g *globals) *cobra.Command {
	o := service.Options{Engine: engine.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the DAG scheduler and its web UI, JSON API and /metrics",
		Example: `  weir scheduler
  # run only what is triggered by hand (no cron)
  weir scheduler --manual-only --listen 127.0.0.1:8080`,
		Long: `Runs the DAGs in the DAG directory on their schedules, with run history and
task logs in PostgreSQL (scheduler.database). Several schedulers may share one
database. The web UI, the JSON API (/api/v1), /metrics and /healthz are served
on scheduler.listen.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			job, err := service.New(cfg, o)
			if err != nil {
				return err
			}
			return job.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DAGDir, "dags", "", "DAG directory (default scheduler.dag_dir)")
	f.StringVar(&o.Listen, "listen", "", "web UI address (default scheduler.listen)")
	f.IntVar(&o.Engine.Parallelism, "parallelism", o.Engine.Parallelism, "tries running at once in this scheduler")
	f.StringArrayVar(&o.Pools, "pool", nil, "pool slots across schedulers, name=slots (repeatable)")
	f.DurationVar(&o.Engine.Tick, "tick", o.Engine.Tick, "pause between scheduling passes")
	f.DurationVar(&o.Engine.LeaseTTL, "lease-ttl", o.Engine.LeaseTTL, "a try is retried elsewhere this long after its scheduler went silent")
	f.DurationVar(&o.Engine.ShutdownGrace, "shutdown-grace", o.Engine.ShutdownGrace, "on SIGTERM, wait this long for running tries before handing them back")
	f.StringVar(&o.Engine.ID, "id", "", "scheduler id (default host-pid-random)")
	f.BoolVar(&o.Engine.ManualOnly, "manual-only", false, "create no scheduled runs (cron off): run only triggered runs and backfills")
	return cmd
}
