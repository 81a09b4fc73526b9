package gold

import (
	"fmt"
	"strings"

	"weir/jobs/orders"
	"weir/lakehouse"
)

// StorageView is the gold view of storage per tier.
const StorageView = "pipeline_storage"

// StorageSQL is the query of gold.pipeline_storage: the live data files,
// their bytes and rows of every table weir writes (lakehouse.Tables: bronze,
// silver, archive), of every gold rollup and of gold.orders (the order
// marts' table, jobs/orders), by tier, from partition
// metadata (no data scan). A table without data files reads 0. Files an
// older snapshot still references until maintenance expires it are not
// counted.
func StorageSQL(rollups []string) string {
	type table struct{ tier, name string }
	var tables []table
	for _, d := range lakehouse.Tables() {
		tables = append(tables, table{string(d.Tier), d.Name})
	}
	for _, r := range rollups {
		tables = append(tables, table{"gold", "gold." + r})
	}
	tables = append(tables, table{"gold", "gold." + orders.TableOrders})
	var parts, values []string
	for i, t := range tables {
		schema, name, _ := strings.Cut(t.name, ".")
		from := fmt.Sprintf("file_count, total_size, record_count FROM %s.\"%s$partitions\"", schema, name)
		if i == 0 {
			parts = append(parts, fmt.Sprintf("SELECT '%s' AS table_name, %s", t.name, from))
		} else {
			parts = append(parts, fmt.Sprintf("UNION ALL SELECT '%s', %s", t.name, from))
		}
		values = append(values, fmt.Sprintf("('%s', '%s')", t.tier, t.name))
	}
	return "SELECT t.tier, t.table_name, coalesce(sum(p.file_count), 0) AS files, coalesce(sum(p.total_size), 0) AS bytes,\n" +
		"       coalesce(sum(p.record_count), 0) AS rows\n" +
		"FROM (\n  " + strings.Join(parts, "\n  ") + "\n) p\n" +
		"RIGHT JOIN (VALUES\n  " + strings.Join(values, ",\n  ") + "\n) AS t (tier, table_name) ON p.table_name = t.table_name\n" +
		"GROUP BY t.tier, t.table_name"
}
