package archive

import (
	"weir/jobs/silver"
	"weir/lakehouse"
)

// HotArchiveViewSQL is the query of the union view over hot and archive
// that shows each row exactly once during and after a move (the package
// invariant): every hot row, plus the archive rows whose key hot lacks.
// It is lakehouse.HotArchiveSQL over the namespaces of ns; the gold views
// sql/gold/*_all.sql are the same query over the default namespaces.
func HotArchiveViewSQL(ns silver.Namespaces, canon string) string {
	return lakehouse.HotArchiveSQL(canon, ns.Table(canon), ns.Table(lakehouse.ArchiveTable(canon)))
}
