package archive

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"weir/jobs/silver"
	"weir/lakehouse"
)

// ViewName is the union view of a silver table: silver.events_all.
func ViewName(ns silver.Namespaces, canon string) string {
	return ns.Table(canon) + "_all"
}

// HotArchiveViewSQL is the query of the union view over hot and archive
// that shows each row exactly once during and after a move (the package
// invariant): every hot row, plus the archive rows whose key hot lacks.
func HotArchiveViewSQL(ns silver.Namespaces, canon string) string {
	hot := ns.Table(canon)
	arch := ns.Table(lakehouse.ArchiveTable(canon))
	var on []string
	for _, k := range lakehouse.SilverKey(canon) {
		on = append(on, fmt.Sprintf("h.%s = a.%s", k, k))
	}
	return fmt.Sprintf("SELECT * FROM %s\nUNION ALL\nSELECT a.* FROM %s a\nWHERE NOT EXISTS (SELECT 1 FROM %s h WHERE %s)",
		hot, arch, hot, strings.Join(on, " AND "))
}

// EnsureViews creates or replaces the union views in Trino (catalog
// catalogName) for every archived table.
func EnsureViews(ctx context.Context, db *sql.DB, catalogName string, ns silver.Namespaces, tables []string) error {
	if len(tables) == 0 {
		tables = lakehouse.ArchivedTables
	}
	for _, canon := range tables {
		stmt := fmt.Sprintf("CREATE OR REPLACE VIEW %s.%s AS\n%s", catalogName, ViewName(ns, canon), qualify(HotArchiveViewSQL(ns, canon), catalogName, ns))
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create view %s: %w", ViewName(ns, canon), err)
		}
	}
	return nil
}

// qualify prefixes the namespaces of ns with the Trino catalog.
func qualify(q, catalogName string, ns silver.Namespaces) string {
	for _, n := range []string{ns.Silver, ns.Archive} {
		q = strings.ReplaceAll(q, " "+n+".", " "+catalogName+"."+n+".")
	}
	return q
}
