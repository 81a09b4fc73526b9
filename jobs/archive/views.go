package archive

import (
	"fmt"
	"strings"

	"weir/jobs/silver"
	"weir/lakehouse"
)

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
