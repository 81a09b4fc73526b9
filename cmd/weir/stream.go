package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"weir/jobs/stream"
	"weir/lakehouse"
)

func newStreamCmd(g *globals) *cobra.Command {
	sc := stream.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "land Kafka topics in bronze Iceberg tables, exactly once",
		Long: `stream consumes the source topics and commits every record, as-is, to its
bronze table every --commit-interval (or --commit-bytes). Positions live in
the tables' snapshot summaries; SIGTERM commits what was consumed.

Fault tests: WEIR_STREAM_CRASH_POINT=before-commit|after-commit makes the
process SIGKILL itself the WEIR_STREAM_CRASH_AFTER-th time (default 1) it
reaches that point of a table commit.`,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if point := os.Getenv("WEIR_STREAM_CRASH_POINT"); point != "" {
				n, _ := strconv.Atoi(os.Getenv("WEIR_STREAM_CRASH_AFTER"))
				sc.Crash = stream.KillAt(point, n)
			}
			lake, err := lakehouse.Open(c.Context(), cfg)
			if err != nil {
				return err
			}
			defer lake.Close()
			job, err := stream.New(sc, cfg.Kafka, lake, slog.Default())
			if err != nil {
				return err
			}
			if err := job.Run(c.Context()); err != nil {
				return fmt.Errorf("stream: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&sc.Topics, "topics", sc.Topics, "topics to consume (^regex allowed)")
	f.StringVar(&sc.Group, "group", sc.Group, "consumer group")
	f.DurationVar(&sc.CommitInterval, "commit-interval", sc.CommitInterval, "longest wait of a consumed record for its commit")
	f.Int64Var(&sc.CommitBytes, "commit-bytes", sc.CommitBytes, "commit once a batch buffers this many bytes")
	f.Int64Var(&sc.MemoryBudget, "memory-budget", sc.MemoryBudget, "pause partitions while this many consumed bytes are uncommitted")
	f.IntVar(&sc.MaxRecordBytes, "max-record-bytes", sc.MaxRecordBytes, "largest key+value stored as-is; larger go to bronze.dead_letters")
	f.StringVar(&sc.Listen, "listen", sc.Listen, "address of /metrics, /readyz, /healthz (empty: off)")
	f.DurationVar(&sc.CommitTimeout, "commit-timeout", sc.CommitTimeout, "bound of one table commit, retries included")
	return cmd
}
