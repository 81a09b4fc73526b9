package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"weir/jobs/setup"
	"weir/objectstore"
)

// newInitCmd creates everything the jobs and readers expect to exist:
// topics, namespaces, every lakehouse table, the scheduler store, gold.
func newInitCmd(g *globals) *cobra.Command {
	var opts setup.Options
	var asJSON, storage bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "create the topics, lakehouse tables, scheduler store and gold views that do not exist yet",
		Long: `init prepares a new or existing deployment, idempotently: the source Kafka
topics, the lakehouse namespaces (bronze, silver, gold, archive), every
Iceberg table the jobs write (bronze topic tables and dead letters, silver
tables with alerts and rejects, archive twins), the scheduler's store, and
the gold rollups and views (through Trino). What exists is left as it is;
a gold view whose SQL changed is replaced. weir stack up, make demo, the
compose init service and the silver_build DAG run it.`,
		Example: `  weir init                 # everything, gold included
  weir init --skip-gold     # without Trino: topics, tables, scheduler store
  weir init --storage       # buckets, service users, archive tier only (compose, Helm)`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if storage {
				secrets, err := setup.StorageSecretsFromEnv(os.LookupEnv)
				if err != nil {
					return fmt.Errorf("--storage: %w", err)
				}
				tier, err := objectstore.TierAccessFromEnv(cfg.S3, os.LookupEnv)
				if err != nil {
					return fmt.Errorf("--storage: %w", err)
				}
				return setup.Storage(c.Context(), cfg, secrets, tier, setup.StoragePatience)
			}
			results, err := setup.Run(c.Context(), cfg, opts)
			if !opts.SkipGold {
				printResults(results, asJSON)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.SkipGold, "skip-gold", false, "leave out the gold rollups and views (no Trino needed)")
	f.BoolVar(&opts.SkipTopics, "skip-topics", false, "leave the Kafka topics alone")
	f.StringVar(&opts.GoldSQL, "sql", "", "directory of the gold SQL (default: the copy built into weir, from sql/gold)")
	f.BoolVar(&asJSON, "json", false, "print the gold results as JSON")
	f.BoolVar(&storage, "storage", false, "only create the buckets and the services' MinIO users and policies, as the S3 admin of the configuration, with secret keys from "+
		"MINIO_STREAM_SECRET_KEY, MINIO_BATCH_SECRET_KEY, MINIO_MAINTAIN_SECRET_KEY, MINIO_TRINO_SECRET_KEY and MINIO_ALERTS_SECRET_KEY; "+
		"with s3.archive_tier.endpoint set, also the archive tier (MINIO_ARCHIVE_ROOT_USER, MINIO_ARCHIVE_ROOT_PASSWORD: its MinIO's admin; MINIO_TIER_SECRET_KEY: weir-tier's secret key)")
	return cmd
}
