package gold

import (
	"context"
	"fmt"

	"weir/lakehouse"
	"weir/scheduler/store"
)

// EnsureSources creates every table of lakehouse.Tables (in t's schemas)
// that does not exist yet, empty and with the layout the stream, silver,
// alert and archive jobs write, and the scheduler's store tables (its own
// migrations, on the configured scheduler database, which Trino's
// "scheduler" catalog reads), so the gold views over them can be created
// before any of those jobs ran.
func EnsureSources(ctx context.Context, lake *lakehouse.Lakehouse, t Target) error {
	if err := lake.EnsureNamespaces(ctx); err != nil {
		return err
	}
	if err := ensureSchedulerStore(ctx, lake.Config().Scheduler.Database); err != nil {
		return err
	}
	return lake.EnsureTables(ctx, t.schema)
}

// ensureSchedulerStore applies the scheduler store's pending migrations:
// the pipeline views read its tables, which exist only once a scheduler
// opened the database.
func ensureSchedulerStore(ctx context.Context, dsn string) error {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("ensure scheduler store: %w", err)
	}
	st.Close()
	return nil
}
