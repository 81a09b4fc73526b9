package main

import (
	"github.com/spf13/cobra"

	"weir/jobs/demo"
	"weir/trino"
)

func newDemoCmd(g *globals) *cobra.Command {
	opts := demo.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "run weir end to end on the local stack and print what the gold views answer",
		Example: `  weir demo
  # a shorter history, and the scheduler kept running for its UI
  weir demo --history 24h --keep-scheduler`,
		Long: `demo generates --history of traffic with every anomaly kind into Kafka, lands
it in bronze (weir stream) while the alert job (weir alerts) watches the same
topics, starts the scheduler (weir scheduler --manual-only on scheduler.listen:
the DAGs' cron schedules stay off in it), triggers manual runs of the
silver_build, gold_views and order_marts DAGs through its API and waits for each, and
prints the answers: the web-log questions, business metrics, latency,
anomalies, the alerts raised, and where to look next. The scheduler is
stopped at the end unless --keep-scheduler.
Run it through 'make demo', which starts the local stack first.`,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			opts = opts.WithConfig(cfg)
			db, err := trino.Open(cfg.Trino)
			if err != nil {
				return err
			}
			defer db.Close()
			d, err := demo.New(opts, db)
			if err != nil {
				return err
			}
			return d.Run(c.Context())
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.History, "history", opts.History, "span of generated history, ending now")
	f.Float64Var(&opts.Rate, "rate", opts.Rate, "records per second of event time")
	f.DurationVar(&opts.AnomalyEvery, "anomaly-every", opts.AnomalyEvery, "spacing of injected anomalies (kinds rotate)")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "generator seed")
	f.StringVar(&opts.DAGDir, "dags", "", "DAG directory the scheduler loads (default scheduler.dag_dir)")
	f.BoolVar(&opts.KeepScheduler, "keep-scheduler", false, "leave the scheduler (and its UI) running when the demo ends")
	f.BoolVar(&opts.Archive, "archive", opts.Archive, "end with a move of the partitions older than the history's whole days to the archive tier (weir batch archive --hot-days), rows per tier before and after")
	f.StringVar(&opts.WorkDir, "work-dir", "", "where the summary, ground truth and job logs go (default: a temp dir)")
	f.DurationVar(&opts.CatchUpTimeout, "catch-up-timeout", opts.CatchUpTimeout, "longest wait for bronze to hold every record")
	return cmd
}
