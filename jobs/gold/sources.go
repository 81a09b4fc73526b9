package gold

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
	"weir/scheduler/store"
)

// EnsureSources creates the bronze, silver and archive tables (in t's
// schemas) that do not exist yet, empty and with the layout the stream,
// silver and archive jobs create them with, and the scheduler's store
// tables (its own migrations, on the configured scheduler database, which
// Trino's "scheduler" catalog reads), so the gold views over them can be
// created before the first run of those jobs.
func EnsureSources(ctx context.Context, lake *lakehouse.Lakehouse, t Target) error {
	if err := lake.EnsureNamespaces(ctx); err != nil {
		return err
	}
	if err := ensureSchedulerStore(ctx, lake.Config().Scheduler.Database); err != nil {
		return err
	}
	type want struct {
		canonical string
		spec      func() (*lakehouse.TableSpec, error)
	}
	var all []want
	for _, name := range []string{lakehouse.BronzeWebAccess, lakehouse.BronzeAppEvents, lakehouse.BronzeAppLogs, lakehouse.BronzeMetrics, lakehouse.BronzeDims, lakehouse.BronzeDeadLetters} {
		dead := name == lakehouse.BronzeDeadLetters
		all = append(all, want{name, func() (*lakehouse.TableSpec, error) { return lakehouse.BronzeTableSpec(dead), nil }})
	}
	for _, name := range lakehouse.SilverTables {
		all = append(all, want{name, func() (*lakehouse.TableSpec, error) { return lakehouse.SilverTableSpec(name) }})
	}
	for _, name := range lakehouse.ArchivedTables {
		all = append(all, want{lakehouse.ArchiveTable(name), func() (*lakehouse.TableSpec, error) { return lakehouse.ArchiveTableSpec(name) }})
	}
	for _, w := range all {
		logical, name, _ := strings.Cut(w.canonical, ".")
		ns := t.schema(logical)
		if err := lake.Catalog.CreateNamespace(ctx, table.Identifier{ns}, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
		spec, err := w.spec()
		if err != nil {
			return err
		}
		spec.Location = lake.TableLocation(ns, name)
		if _, err := lakehouse.LoadOrCreate(ctx, lake.Catalog, lakehouse.Ident(ns+"."+name), spec); err != nil {
			return fmt.Errorf("ensure %s.%s: %w", ns, name, err)
		}
	}
	return nil
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
