package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"weir/endpoints"
	"weir/jobs/alerts"
)

func newAlertsCmd(g *globals) *cobra.Command {
	o := alerts.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "micro-batch alert job: event-time rules over Kafka → Alertmanager, alerts topic, silver.alerts",
		Example: `  # evaluate rules/alerts.yaml on every topic; alerts to Alertmanager, the alerts topic and silver.alerts
  weir alerts --rules rules/alerts.yaml
  # a second job of its own (consumer group weir-canary), from the newest records, without sinks
  weir alerts --job canary --start-at latest --sinks ""
  # replay a copy of the topics from scratch and stop at its end
  weir alerts --job replay --topic-prefix staging. --reset --sinks "" --stop-when-caught-up
  # the alerts raised (see also: weir alerts list, weir alerts backtest)
  weir alerts list`,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			job, err := alerts.New(cfg, o)
			if err != nil {
				return err
			}
			return endpoints.Run(c.Context(), o.Listen, job.Handler(), job, slog.Default())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.RulesFile, "rules", o.RulesFile, "rules file")
	fl.StringVar(&o.Job, "job", o.Job, "job name: checkpoint, outbox and consumer group weir-<job>")
	fl.StringVar(&o.StateDB, "state-db", o.StateDB, "PostgreSQL DSN of the job state (default: scheduler.database)")
	fl.StringVar(&o.StartAt, "start-at", o.StartAt, "where a job without a checkpoint starts: earliest or latest")
	fl.StringSliceVar(&o.Sinks, "sinks", o.Sinks, "comma-separated sinks (empty: none)")
	fl.StringVar(&o.AlertsTopic, "alerts-topic", o.AlertsTopic, "Kafka topic of alert notifications")
	fl.StringVar(&o.Listen, "listen", o.Listen, "address of /metrics, /readyz and /healthz (empty: off; the default follows WEIR_STACK_PORT_OFFSET)")
	fl.DurationVar(&o.BatchInterval, "batch", o.BatchInterval, "micro-batch interval")
	fl.DurationVar(&o.ResendInterval, "resend", o.ResendInterval, "re-send interval of firing alerts to Alertmanager")
	fl.DurationVar(&o.IcebergInterval, "iceberg-interval", o.IcebergInterval, "append interval of silver.alerts")
	fl.IntVar(&o.MaxBatch, "max-batch", o.MaxBatch, "most records in one micro-batch")
	fl.StringVar(&o.TopicPrefix, "topic-prefix", o.TopicPrefix, "prefix of the source topics (a staging or test copy)")
	fl.BoolVar(&o.StopWhenCaughtUp, "stop-when-caught-up", o.StopWhenCaughtUp, "stop once every source record on the broker has been read and evaluated (a replay), after a last checkpoint")
	fl.BoolVar(&o.Reset, "reset", o.Reset, "delete this job's checkpoint, outbox and cursors first (re-evaluate from scratch)")
	cmd.AddCommand(newAlertsBacktestCmd(g), newAlertsListCmd(g))
	return cmd
}
