package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"weir/endpoints"
	"weir/jobs/stream"
)

func newStreamCmd(g *globals) *cobra.Command {
	sc := stream.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "land Kafka topics in bronze Iceberg tables, exactly once",
		Example: `  weir stream
  weir stream --topics web.access,app.events --commit-interval 5s`,
		Long: `stream consumes the source topics and commits every record, as-is, to its
bronze table every --commit-interval (or --commit-bytes). Positions live in
the tables' snapshot summaries; SIGTERM commits what was consumed.

Fault tests: WEIR_KILL_POINT=before-commit|commit-built|metadata-written|
committed|after-commit|dead-committed makes the process SIGKILL itself the
WEIR_KILL_AFTER-th time (default 1) it reaches that point of a flush; WEIR_STREAM_STALL_POINT, _AFTER and
_FOR (a duration) stall the committing goroutine there once instead.`,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			lake, err := openLake(c.Context(), cfg)
			if err != nil {
				return err
			}
			defer lake.Close()
			if sc.Hook, err = stream.FaultHook(lake.Hook); err != nil {
				return err
			}
			job, err := stream.New(sc, cfg.Kafka, lake, slog.Default())
			if err != nil {
				return err
			}
			if err := endpoints.Run(c.Context(), sc.Listen, job.Handler(), job, slog.Default()); err != nil {
				return fmt.Errorf("stream: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&sc.Topics, "topics", sc.Topics, "topics to consume (^regex allowed)")
	f.StringVar(&sc.Group, "group", sc.Group, "consumer group")
	f.StringVar(&sc.InstanceID, "instance-id", sc.InstanceID, "static group membership id (e.g. the pod name): restarts keep their partitions without a rebalance")
	f.StringVar(&sc.DeadLetters, "dead-letters", sc.DeadLetters, "dead-letter table")
	f.DurationVar(&sc.CommitInterval, "commit-interval", sc.CommitInterval, "longest wait of a consumed record for its commit")
	f.Int64Var(&sc.CommitBytes, "commit-bytes", sc.CommitBytes, "commit once a batch buffers this many bytes")
	f.Int64Var(&sc.MemoryBudget, "memory-budget", sc.MemoryBudget, "pause partitions while this many consumed bytes are uncommitted")
	f.IntVar(&sc.MaxRecordBytes, "max-record-bytes", sc.MaxRecordBytes, "largest key+value stored as-is; larger go to bronze.dead_letters")
	f.StringVar(&sc.Listen, "listen", sc.Listen, "address of /metrics, /readyz, /healthz (empty: off; the default follows WEIR_STACK_PORT_OFFSET)")
	f.DurationVar(&sc.SessionTimeout, "session-timeout", sc.SessionTimeout, "consumer-group session timeout")
	f.DurationVar(&sc.CommitTimeout, "commit-timeout", sc.CommitTimeout, "bound of one table commit, retries included")
	f.StringVar(&sc.OnRetentionGap, "on-retention-gap", sc.OnRetentionGap, "when Kafka deleted records before they were read: fail (stop, naming the hole) or record (one dead letter per hole, then go on)")
	return cmd
}
