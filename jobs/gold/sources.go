package gold

import (
	"context"
	"fmt"
	"strings"

	"weir/lakehouse"
)

// EnsureSources creates the bronze and silver tables and the archive twins
// that do not exist yet (empty, with the layout the silver and archive jobs use),
// so the gold views over them can be created before the first silver run.
func EnsureSources(ctx context.Context, lake *lakehouse.Lakehouse) error {
	if err := lake.EnsureNamespaces(ctx); err != nil {
		return err
	}
	for _, name := range []string{lakehouse.BronzeWebAccess, lakehouse.BronzeAppEvents, lakehouse.BronzeAppLogs, lakehouse.BronzeMetrics, lakehouse.BronzeDims, lakehouse.BronzeDeadLetters} {
		spec := lakehouse.BronzeTableSpec(name == lakehouse.BronzeDeadLetters)
		if _, err := lakehouse.LoadOrCreate(ctx, lake.Catalog, lakehouse.Ident(name), spec); err != nil {
			return fmt.Errorf("ensure %s: %w", name, err)
		}
	}
	for _, name := range lakehouse.SilverTables {
		spec, err := lakehouse.SilverTableSpec(name)
		if err != nil {
			return err
		}
		if _, err := lakehouse.LoadOrCreate(ctx, lake.Catalog, lakehouse.Ident(name), spec); err != nil {
			return fmt.Errorf("ensure %s: %w", name, err)
		}
	}
	for _, name := range lakehouse.ArchivedTables {
		spec, err := lakehouse.ArchiveTableSpec(name)
		if err != nil {
			return err
		}
		arch := lakehouse.ArchiveTable(name)
		_, tbl, _ := strings.Cut(arch, ".")
		spec.Location = lake.TableLocation(lakehouse.Archive, tbl)
		if _, err := lakehouse.LoadOrCreate(ctx, lake.Catalog, lakehouse.Ident(arch), spec); err != nil {
			return fmt.Errorf("ensure %s: %w", arch, err)
		}
	}
	return nil
}
