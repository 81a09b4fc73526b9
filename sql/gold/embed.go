// Package gold holds the gold layer's SQL (DESIGN §5): one Trino view per
// NAME.sql file, one rollup table per rollups/NAME.sql file and one
// snapshot table per snapshots/NAME.sql file, embedded so the weir binary
// applies them wherever it runs (jobs/gold reads them).
//
// The SQL names tables by logical schema (silver.events, gold.x) without a
// catalog; jobs/gold maps the schemas and runs it in the configured catalog.
// The one exception is the scheduler's store, which the pipeline_dag_* and
// pipeline_task_failures views read by three-part name through Trino's
// read-only "scheduler" catalog (scheduler.public.dag_runs).
package gold

import "embed"

// FS holds *.sql, rollups/*.sql and snapshots/*.sql.
//
//go:embed *.sql rollups/*.sql snapshots/*.sql
var FS embed.FS
