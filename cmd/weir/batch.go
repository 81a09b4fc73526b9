package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"weir/config"
	"weir/endpoints"
	"weir/jobs/archive"
	"weir/jobs/gold"
	"weir/jobs/maintain"
	"weir/jobs/silver"
	"weir/lakehouse"
	"weir/scheduler/engine"
)

// newBatchCmd wires the batch jobs the DAGs run: `weir batch silver`,
// `weir batch maintain`, `weir batch archive`, `weir batch enrich`,
// `weir batch orders`. Each prints a JSON report on
// stdout (the task log) and logs on stderr. The scheduler passes
// WEIR_RUN_ID (recorded in silver commits); the jobs are incremental and
// need no data interval.
func newBatchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "batch",
		Short: "batch jobs: silver build, table maintenance, hot/archive moves, order enrichment and marts",
		Example: `  weir batch silver
  weir batch maintain --op compact --table silver.events
  weir batch archive --hot-days 30`,
	}
	cmd.AddCommand(newBatchSilverCmd(g), newBatchMaintainCmd(g), newBatchArchiveCmd(g), newBatchEnrichCmd(g), newBatchOrdersCmd(g))
	return cmd
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// namespaceFlags lets a batch job work on other namespaces than the
// medallion ones (a staging copy, a fault test's own).
func namespaceFlags(cmd *cobra.Command, ns *silver.Namespaces) {
	*ns = silver.DefaultNamespaces()
	cmd.Flags().StringVar(&ns.Bronze, "bronze-namespace", ns.Bronze, "namespace of the bronze tables")
	cmd.Flags().StringVar(&ns.Silver, "silver-namespace", ns.Silver, "namespace of the silver tables")
	cmd.Flags().StringVar(&ns.Archive, "archive-namespace", ns.Archive, "namespace of the archive tier")
}

func newBatchSilverCmd(g *globals) *cobra.Command {
	var (
		source    string
		maxFuture time.Duration
		chunkRows int64
		ns        silver.Namespaces
		follow    bool
		fc        = silver.DefaultFollowConfig()
		withGold  bool
	)
	cmd := &cobra.Command{
		Use:   "silver [--source web_access|app_events|app_logs|infra_metrics|dims|all]",
		Short: "build silver tables from the bronze snapshots added since the last run",
		Example: `  # every source, dimensions first
  weir batch silver
  weir batch silver --source web_access --max-future 10m
  # continuously: a run every 10 s, then the gold rollups' changed days
  weir batch silver --follow --interval 10s --gold`,
		Long: `silver builds the silver tables from the bronze snapshots added since the
last run, once, and prints the results as JSON.

With --follow it runs again --interval after each run ends, until SIGTERM or
SIGINT, which stop it between runs (a run in progress finishes, commits
included). Each run is the ordinary incremental, exactly-once run, so follow
mode may overlap with scheduled runs. --gold refreshes the gold rollups
(weir gold refresh) after every run that changed silver.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := silver.ValidateSource(source); err != nil {
				return fmt.Errorf("--source: %w", err)
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			formats, err := cfg.AccessFormats()
			if err != nil {
				return err
			}
			lake, err := openLake(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer lake.Close()
			job := silver.New(lake, silver.Config{Namespaces: ns, MaxFuture: maxFuture, ChunkRows: chunkRows,
				Promote: cfg.Promote, AccessFormats: formats, RunID: os.Getenv("WEIR_RUN_ID")})
			if follow {
				return followSilver(cmd, cfg, job, source, fc, withGold)
			}
			res, err := job.Run(cmd.Context(), source)
			if perr := printJSON(cmd, res); perr != nil && err == nil {
				err = perr
			}
			if path := os.Getenv(engine.TaskMetricsEnv); path != "" {
				if merr := prometheus.WriteToTextfile(path, silver.Metrics(res)); merr != nil && err == nil {
					err = fmt.Errorf("write task metrics: %w", merr)
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&source, "source", silver.SourceAll, "bronze source to build: "+strings.Join(silver.Sources, ", ")+" or all (dims first)")
	cmd.Flags().DurationVar(&maxFuture, "max-future", silver.DefaultConfig().MaxFuture, "records whose event time is more than this after their ingestion go to silver.rejects (class future); the alert job's max_future")
	cmd.Flags().Int64Var(&chunkRows, "chunk-rows", silver.DefaultConfig().ChunkRows, "bronze rows per silver commit (bounds memory)")
	cmd.Flags().BoolVar(&follow, "follow", false, "run continuously: again --interval after each run, until SIGTERM (stops between runs)")
	cmd.Flags().DurationVar(&fc.Interval, "interval", fc.Interval, "follow mode: pause between the end of a run and the next")
	cmd.Flags().StringVar(&fc.Listen, "listen", fc.Listen, "follow mode: address of /metrics, /readyz, /healthz (empty: off)")
	cmd.Flags().BoolVar(&withGold, "gold", false, "follow mode: refresh the gold rollups after every run that changed silver (medallion namespaces only)")
	namespaceFlags(cmd, &ns)
	return cmd
}

// followSilver runs the silver job in follow mode beside its endpoints;
// with gold, each run that changed silver is followed by the gold refresh.
func followSilver(cmd *cobra.Command, cfg config.Config, job *silver.Job, source string, fc silver.FollowConfig, withGold bool) error {
	fc.Source = source
	if withGold {
		defs, err := gold.Definitions("")
		if err != nil {
			return err
		}
		r, closeTrino, err := goldRunner(cfg)
		if err != nil {
			return err
		}
		defer closeTrino()
		fc.Then = func(ctx context.Context) error {
			_, err := r.Refresh(ctx, defs)
			return err
		}
	}
	f, err := silver.NewFollower(job, fc)
	if err != nil {
		return err
	}
	if err := endpoints.Run(cmd.Context(), fc.Listen, f.Handler(), f, slog.Default()); err != nil {
		return fmt.Errorf("silver follow: %w", err)
	}
	return nil
}

func newBatchMaintainCmd(g *globals) *cobra.Command {
	var (
		mc        = maintain.DefaultConfig()
		tables    []string
		ops       []string
		minInputs uint
	)
	cmd := &cobra.Command{
		Use:   "maintain",
		Short: "bronze retention, compact small files, rewrite manifests, expire snapshots, remove orphan files",
		Example: `  # everything, on every table
  weir batch maintain
  # a full compaction of one table
  weir batch maintain --op compact --full --table silver.access_logs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mc.Tables, mc.Ops, mc.MinInputFiles = tables, ops, minInputs
			if err := mc.Validate(); err != nil {
				return err
			}
			lake, err := g.openMaintainerLake(cmd.Context())
			if err != nil {
				return err
			}
			defer lake.Close()
			reps, err := maintain.New(lake, mc).Run(cmd.Context())
			if perr := printJSON(cmd, reps); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&tables, "table", nil, "tables to maintain (e.g. bronze.app_events); default every bronze, silver and archive table")
	f.StringSliceVar(&ops, "op", nil, "operations: "+strings.Join(maintain.AllOps, ", ")+" (default all)")
	f.Int64Var(&mc.TargetFileBytes, "target-file-bytes", mc.TargetFileBytes, "compaction target file size")
	f.UintVar(&minInputs, "min-input-files", mc.MinInputFiles, "fewest small files of a partition worth compacting")
	f.BoolVar(&mc.Full, "full", false, "compact every small file of a partition into as few files as the target allows (daily or final run); default size-tiered: a file larger than all the others it would merge with waits")
	f.IntVar(&mc.MaxManifests, "max-manifests", mc.MaxManifests, "rewrite manifests when a snapshot has more")
	f.DurationVar(&mc.SnapshotWindow, "snapshot-window", mc.SnapshotWindow, "keep snapshots younger than this")
	f.IntVar(&mc.RetainLast, "retain-last", mc.RetainLast, "keep at least this many snapshots")
	f.DurationVar(&mc.OrphanAge, "orphan-age", mc.OrphanAge, "delete only unreferenced files older than this")
	f.DurationVar(&mc.BronzeRetention, "bronze-retention", mc.BronzeRetention, "delete bronze rows ingested longer ago than this (whole days) once every silver table reading them has consumed them; negative: keep bronze forever")
	return cmd
}

func newBatchArchiveCmd(g *globals) *cobra.Command {
	ac := archive.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "archive",
		Short: "move silver partitions older than the hot window to archive.* tables",
		Example: `  weir batch archive
  weir batch archive --hot-days 7 --table silver.logs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lake, err := g.openMaintainerLake(cmd.Context())
			if err != nil {
				return err
			}
			defer lake.Close()
			ac.Crash = lake.Hook // fault tests: WEIR_KILL_POINT=after-copy
			reps, err := archive.New(lake, ac).Run(cmd.Context())
			if perr := printJSON(cmd, reps); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&ac.HotDays, "hot-days", ac.HotDays, "days (today included, by event date) that stay in the hot tables")
	f.StringSliceVar(&ac.Tables, "table", nil, "silver tables to archive (default "+strings.Join(lakehouse.ArchivedTables, ", ")+")")
	namespaceFlags(cmd, &ac.Namespaces)
	return cmd
}

// openMaintainerLake opens the lakehouse as the maintenance identity.
// Compaction, expiry, orphan removal and archiving rewrite bronze and silver,
// which the scheduler's own identity (weir-batch: reads bronze) may not; a
// deployment gives the scheduler WEIR_MAINTAIN_<NAME> variables (e.g.
// WEIR_MAINTAIN_S3_ACCESS_KEY, WEIR_MAINTAIN_S3_SECRET_KEY), which override
// WEIR_<NAME> for these jobs only. Without them it is openLake.
func (g *globals) openMaintainerLake(ctx context.Context) (*lakehouse.Lakehouse, error) {
	cfg, err := g.load()
	if err != nil {
		return nil, err
	}
	if cfg, err = cfg.ForIdentity("WEIR_MAINTAIN_", os.LookupEnv); err != nil {
		return nil, fmt.Errorf("maintenance identity: %w", err)
	}
	return openLake(ctx, cfg)
}
