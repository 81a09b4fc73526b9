package main

import (
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"weir/config"
	"weir/jobs/alerts"
	"weir/jobs/alerts/rules"
)

func newAlertsCmd(g *globals) *cobra.Command {
	var (
		rulesPath, job, stateDB, startAt, sinks, topic, listen, prefix string
		batch, resend, icebergEvery                                    time.Duration
		reset, stopCaughtUp                                            bool
		maxBatch                                                       int
	)
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
			f, err := rules.Load(rulesPath)
			if err != nil {
				return err
			}
			if reset {
				dsn := stateDB
				if dsn == "" {
					dsn = cfg.Scheduler.Database
				}
				st, err := alerts.OpenStore(c.Context(), dsn, job)
				if err != nil {
					return err
				}
				err = st.Reset(c.Context())
				st.Close()
				if err != nil {
					return err
				}
				slog.Info("reset alert job state", "job", job)
			}
			var sinkList []string
			if sinks != "" {
				sinkList = strings.Split(sinks, ",")
			} else {
				sinkList = []string{}
			}
			return alerts.Run(c.Context(), cfg, alerts.Options{
				Rules: f, Job: job, StateDB: stateDB, StartAt: startAt, Sinks: sinkList,
				AlertsTopic: topic, Listen: listen, BatchInterval: batch, MaxBatch: maxBatch, TopicPrefix: prefix,
				ResendInterval: resend, IcebergInterval: icebergEvery, StopWhenCaughtUp: stopCaughtUp,
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&rulesPath, "rules", "rules/alerts.yaml", "rules file")
	fl.StringVar(&job, "job", "alerts", "job name: checkpoint, outbox and consumer group weir-<job>")
	fl.StringVar(&stateDB, "state-db", "", "PostgreSQL DSN of the job state (default: scheduler.database)")
	fl.StringVar(&startAt, "start-at", "earliest", "where a job without a checkpoint starts: earliest or latest")
	fl.StringVar(&sinks, "sinks", "alertmanager,kafka,iceberg", "comma-separated sinks (empty: none)")
	fl.StringVar(&topic, "alerts-topic", "alerts", "Kafka topic of alert notifications")
	fl.StringVar(&listen, "listen", defaultAlertsListen(), "address of /metrics and /ready (empty: off; the default follows WEIR_STACK_PORT_OFFSET)")
	fl.DurationVar(&batch, "batch", time.Second, "micro-batch interval")
	fl.DurationVar(&resend, "resend", 30*time.Second, "re-send interval of firing alerts to Alertmanager")
	fl.DurationVar(&icebergEvery, "iceberg-interval", 10*time.Second, "append interval of silver.alerts")
	fl.IntVar(&maxBatch, "max-batch", 100_000, "most records in one micro-batch")
	fl.StringVar(&prefix, "topic-prefix", "", "prefix of the source topics (a staging or test copy)")
	fl.BoolVar(&stopCaughtUp, "stop-when-caught-up", false, "stop once every source record on the broker has been read and evaluated (a replay), after a last checkpoint")
	fl.BoolVar(&reset, "reset", false, "delete this job's checkpoint, outbox and cursors first (re-evaluate from scratch)")
	cmd.AddCommand(newAlertsBacktestCmd(g), newAlertsListCmd(g))
	return cmd
}

// defaultAlertsListen is config.AlertsListen shifted by the stack's port
// offset.
func defaultAlertsListen() string { return stackListen(config.AlertsListen) }

// stackListen is addr shifted by the stack's port offset (addr itself when
// the offset is not a number): where the stack's Prometheus looks.
func stackListen(addr string) string {
	shifted, err := config.StackPort(addr)
	if err != nil {
		return addr
	}
	return shifted
}
