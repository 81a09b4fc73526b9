package lakehouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Tier is the medallion layer a table belongs to.
type Tier string

const (
	TierBronze  Tier = "bronze"
	TierSilver  Tier = "silver"
	TierArchive Tier = "archive"
)

// TableDef declares one Iceberg table that weir's Go jobs write. The gold
// rollups are declared in sql/gold/rollups and created through Trino.
type TableDef struct {
	Name string // canonical "namespace.table", e.g. "silver.events"
	Tier Tier
	// Key identifies a row across runs and tiers (SilverKey); nil for
	// bronze, whose rows are identified by their Kafka coordinates.
	Key []string
	// UnionView is the gold view over the hot and archive tiers of a
	// silver table ("gold.events_all", HotArchiveSQL), or "".
	UnionView string
	spec      func() (*TableSpec, error)
}

// Spec is how the table is created: schema, partitioning, sort order and
// properties (its location is the Lakehouse's to choose).
func (d TableDef) Spec() (*TableSpec, error) { return d.spec() }

// Tables is the one list of the Iceberg tables weir's jobs write: every
// bronze topic table and the dead letters, every silver table (alerts and
// rejects included), and the archive twins. EnsureTables creates them all,
// so no reader ever depends on a writer having run first.
func Tables() []TableDef {
	var out []TableDef
	for _, name := range []string{BronzeWebAccess, BronzeAppEvents, BronzeAppLogs, BronzeMetrics, BronzeDims, BronzeDeadLetters} {
		dead := name == BronzeDeadLetters
		out = append(out, TableDef{Name: name, Tier: TierBronze, spec: func() (*TableSpec, error) { return BronzeTableSpec(dead), nil }})
	}
	views := map[string]string{}
	for _, v := range UnionViews() {
		views[v.Table] = v.Name
	}
	for _, name := range SilverTables {
		out = append(out, TableDef{Name: name, Tier: TierSilver, Key: SilverKey(name), UnionView: views[name],
			spec: func() (*TableSpec, error) { return SilverTableSpec(name) }})
	}
	out = append(out, TableDef{Name: SilverAlerts, Tier: TierSilver, Key: []string{"job", "seq"},
		spec: func() (*TableSpec, error) { return AlertsTableSpec(), nil }})
	for _, name := range ArchivedTables {
		out = append(out, TableDef{Name: ArchiveTable(name), Tier: TierArchive, Key: SilverKey(name),
			spec: func() (*TableSpec, error) { return ArchiveTableSpec(name) }})
	}
	return out
}

// EnsureTables creates every table of Tables that does not exist yet, empty,
// and adds the columns an existing one lacks (LoadOrCreate). schema maps a
// logical namespace (bronze, silver, archive) to the physical one: tests map
// them to namespaces of their own; nil keeps the names. Idempotent, and
// safe beside jobs that create the same tables.
func (l *Lakehouse) EnsureTables(ctx context.Context, schema func(logical string) string) error {
	if schema == nil {
		schema = func(s string) string { return s }
	}
	for _, def := range Tables() {
		logical, name, _ := strings.Cut(def.Name, ".")
		ns := schema(logical)
		if err := l.EnsureNamespace(ctx, ns); err != nil {
			return err
		}
		spec, err := def.Spec()
		if err != nil {
			return err
		}
		spec.Location = l.TableLocation(ns, name)
		if logical == Archive && ns != Archive {
			// A test's archive namespace is on the archive bucket (and its
			// tier) too, in a directory of its own, where jobs/archive
			// would create it.
			spec.Location = l.TableLocation(Archive, ns+"/"+name)
		}
		if _, err := LoadOrCreate(ctx, l.Catalog, Ident(ns+"."+name), spec); err != nil {
			return fmt.Errorf("ensure table %s.%s: %w", ns, name, err)
		}
	}
	return nil
}

// SilverAlerts is the Iceberg table of the alert job's notifications.
const SilverAlerts = "silver.alerts"

// AlertsSchema is the schema of silver.alerts: one row per notification the
// alert job delivered (labels, annotations and values as JSON objects).
func AlertsSchema() *iceberg.Schema {
	f := func(id int, name string, t iceberg.Type, req bool) iceberg.NestedField {
		return iceberg.NestedField{ID: id, Name: name, Type: t, Required: req}
	}
	s, ts, i64 := iceberg.PrimitiveTypes.String, iceberg.PrimitiveTypes.TimestampTz, iceberg.PrimitiveTypes.Int64
	return iceberg.NewSchema(0,
		f(1, "job", s, true),
		f(2, "seq", i64, true),
		f(3, "id", s, true),
		f(4, "fingerprint", s, true),
		f(5, "rule", s, true),
		f(6, "status", s, true),
		f(7, "severity", s, true),
		f(8, "labels", s, true), // JSON object
		f(9, "annotations", s, false),
		f(10, "values", s, false),
		f(11, "starts_at", ts, true),
		f(12, "ends_at", ts, false),
		f(13, "window_start", ts, true),
		f(14, "window_end", ts, true),
		f(15, "emitted_at", ts, true),
	)
}

// AlertsTableSpec is how silver.alerts is created: partitioned by
// day(starts_at).
func AlertsTableSpec() *TableSpec {
	return &TableSpec{
		Schema: AlertsSchema(),
		Spec: iceberg.NewPartitionSpec(iceberg.PartitionField{
			SourceIDs: []int{11}, FieldID: 1000, Name: "starts_at_day", Transform: iceberg.DayTransform{},
		}),
		Properties: iceberg.Properties{
			table.PropertyFormatVersion:               "2",
			table.ParquetCompressionKey:               "zstd",
			table.MetadataDeleteAfterCommitEnabledKey: "true",
			table.MetadataPreviousVersionsMaxKey:      "50",
			table.CommitNumRetriesKey:                 "0",
		},
	}
}
