package lakehouse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"weir/events"
)

// Silver tables (DESIGN §4). Their archive twins (DESIGN §7) have the same
// name in the archive namespace: archive.access_logs, archive.events, ...
const (
	SilverAccessLogs   = "silver.access_logs"
	SilverEvents       = "silver.events"
	SilverLogs         = "silver.logs"
	SilverMetrics      = "silver.metrics"
	SilverDimItems     = "silver.dim_items"
	SilverDimProviders = "silver.dim_providers"
	SilverRejects      = "silver.rejects"
)

// Silver column names shared by several tables (the typed columns of each
// source are those of package events: events.AccessLogFields, ...). Every
// silver event table partitions by day(event_ts) (ColEventTS).
const (
	// Source coordinates of the bronze record a silver row was built from.
	ColSourceTopic     = "source_topic"
	ColSourcePartition = "source_partition"
	ColSourceOffset    = "source_offset"
	// ColIsFuture is always false: records from the future (a producer with
	// a wrong clock) go to silver.rejects with class RejectFuture. The
	// column stays so existing tables, archives and views keep their
	// schema.
	ColIsFuture = "is_future"
	// ColEndpoint is the access-log path without query string and fragment.
	ColEndpoint = "endpoint"
	// Enrichment of silver.events from the dimension tables; null when the
	// event names no item/provider or the dimension is not (yet) known.
	ColItemName     = "item_name"
	ColItemCategory = "item_category"
	ColProviderName = "provider_name"
	ColProviderKind = "provider_kind"
	// silver.rejects.
	ColErrorClass = "error_class"
	ColField      = "field"
	ColRejectedAt = "rejected_at"
	// Dimension tables: when the dimension record was produced.
	ColUpdatedAt = "updated_at"
)

// silverDecl declares one silver table once: its columns, row key,
// partitioning, sort order, whether it has an archive twin, and the columns
// of its gold union view over hot and archive. Everything else about the
// table (SilverTables, ArchivedTables, SilverKey, SilverArrowSchema, the
// table specs, UnionViews) is derived from silverDecls.
type silverDecl struct {
	name      string
	fields    func() []arrow.Field
	key       []string       // nil: the bronze coordinates
	partition []partitionCol // day(first) plus identity columns
	sort      []string
	archived  bool
	union     []string // columns of gold.<table>_all; nil: no union view
	// bloom columns get a Parquet bloom filter per row group, for the
	// lookups of one random id (a request trace by action_id) that no
	// min/max statistic prunes.
	bloom []string
}

// silverDecls are the silver tables in build order (dims before the events
// they enrich).
var silverDecls = []silverDecl{
	{name: SilverDimItems, fields: func() []arrow.Field { return append(events.DimItemFields(), dimLineage()...) },
		key: []string{"item"}, sort: []string{"item"}},
	{name: SilverDimProviders, fields: func() []arrow.Field { return append(events.DimProviderFields(), dimLineage()...) },
		key: []string{"provider"}, sort: []string{"provider"}},
	// Access queries aggregate across all clients over days; sorting by
	// time keeps interval scans narrow.
	{name: SilverAccessLogs, fields: func() []arrow.Field {
		return append(append(events.AccessLogFields(), optField(ColEndpoint, str)), lineageFields()...)
	},
		partition: []partitionCol{{ColEventTS, true}}, sort: []string{ColEventTS, "client_ip"}, archived: true,
		union: []string{ColEventTS, "client_ip", "method", "path", ColEndpoint, "status", "status_class", "bytes", "is_static_file"}},
	// Most event queries filter by service and type over an interval.
	{name: SilverEvents, fields: func() []arrow.Field {
		f := append(events.AppEventFields(),
			optField(ColItemName, str), optField(ColItemCategory, str),
			optField(ColProviderName, str), optField(ColProviderKind, str))
		return append(f, lineageFields()...)
	},
		key:       []string{"event_id"},
		partition: []partitionCol{{ColEventTS, true}, {"service", false}}, sort: []string{"type", ColEventTS, "action_id"}, archived: true,
		bloom: []string{"action_id"},
		union: []string{ColEventTS, "event_id", "action_id", "service", "host", "user_id", "session_id", "type", "status",
			"page", "item", ColItemCategory, "provider", "amount", "currency", "attempt", "duration_ms"}},
	{name: SilverLogs, fields: func() []arrow.Field { return append(events.AppLogFields(), lineageFields()...) },
		partition: []partitionCol{{ColEventTS, true}, {"service", false}}, sort: []string{"level", ColEventTS}, archived: true,
		bloom: []string{"action_id"},
		union: []string{ColEventTS, "level", "service", "host", "node", "module", "file", "line", "message", "action_id"}},
	{name: SilverMetrics, fields: func() []arrow.Field { return append(events.MetricFields(), lineageFields()...) },
		partition: []partitionCol{{ColEventTS, true}}, sort: []string{"host", ColEventTS}, archived: true,
		union: []string{ColEventTS, "host", "service", "cpu_pct", "mem_bytes", "mem_pct", "load1", "requests"}},
	{name: SilverRejects, fields: rejectFields,
		partition: []partitionCol{{ColIngestedAt, true}, {ColSourceTopic, false}}, sort: []string{ColSourcePartition, ColSourceOffset}, archived: true},
}

// silverDeclOf finds the declaration of a silver table or its archive twin.
func silverDeclOf(name string) (silverDecl, bool) {
	short := strings.TrimPrefix(strings.TrimPrefix(name, Silver+"."), Archive+".")
	for _, d := range silverDecls {
		if d.name == Silver+"."+short {
			return d, true
		}
	}
	return silverDecl{}, false
}

func silverNames(archivedOnly bool) []string {
	var out []string
	for _, d := range silverDecls {
		if d.archived || !archivedOnly {
			out = append(out, d.name)
		}
	}
	return out
}

// SilverTables lists the silver tables in build order (dims before the
// events they enrich).
var SilverTables = silverNames(false)

// ArchivedTables lists the silver tables the hot/archive split applies to.
var ArchivedTables = silverNames(true)

// ArchiveTable names the archive twin of a silver table: silver.events →
// archive.events.
func ArchiveTable(silver string) string {
	_, name, _ := strings.Cut(silver, ".")
	return Archive + "." + name
}

// SilverKey lists the columns that identify a row of a silver table across
// runs, hot and archive: event_id for app events, the dimension key for
// dimensions, the bronze coordinates for everything else.
func SilverKey(name string) []string {
	if d, ok := silverDeclOf(name); ok && d.key != nil {
		return d.key
	}
	return []string{ColSourceTopic, ColSourcePartition, ColSourceOffset}
}

// PartitionTimeColumn is the timestamp column whose day partitions a
// silver table: event_ts, or ingested_at for rejects (which may have no
// event time). Empty for the unpartitioned dimension tables.
func PartitionTimeColumn(name string) string {
	d, ok := silverDeclOf(name)
	if !ok {
		return ColEventTS
	}
	for _, p := range d.partition {
		if p.day {
			return p.column
		}
	}
	return ""
}

var (
	tsUTC  = arrow.FixedWidthTypes.Timestamp_us
	str    = arrow.BinaryTypes.String
	i32    = arrow.PrimitiveTypes.Int32
	i64    = arrow.PrimitiveTypes.Int64
	boolTy = arrow.FixedWidthTypes.Boolean
	binTy  = arrow.BinaryTypes.Binary
)

func reqField(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }
func optField(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

// lineageFields close every silver event table: where the row came from.
func lineageFields() []arrow.Field {
	return []arrow.Field{
		reqField(ColIsFuture, boolTy),
		reqField(ColSourceTopic, str),
		reqField(ColSourcePartition, i32),
		reqField(ColSourceOffset, i64),
		optField(ColKafkaTS, tsUTC),
		reqField(ColIngestedAt, tsUTC),
	}
}

// SilverArrowSchema is the Arrow schema silver jobs write for a silver (or
// archive) table: the typed columns of package events first (so the
// events.Append*Row functions fill them), then the table's own columns.
func SilverArrowSchema(name string) (*arrow.Schema, error) {
	d, ok := silverDeclOf(name)
	if !ok {
		return nil, fmt.Errorf("silver schema: unknown table %q", name)
	}
	return arrow.NewSchema(d.fields(), nil), nil
}

func rejectFields() []arrow.Field {
	return []arrow.Field{
		reqField(ColSourceTopic, str),
		reqField(ColSourcePartition, i32),
		reqField(ColSourceOffset, i64),
		optField(ColKafkaTS, tsUTC),
		reqField(ColIngestedAt, tsUTC),
		optField(ColEventTS, tsUTC), // bronze's best-effort event time
		reqField(ColReason, str),
		reqField(ColErrorClass, str),
		optField(ColField, str),
		optField(ColKey, binTy),
		optField(ColValue, binTy),
		reqField(ColRejectedAt, tsUTC),
	}
}

func dimLineage() []arrow.Field {
	return []arrow.Field{
		reqField(ColSourcePartition, i32),
		reqField(ColSourceOffset, i64),
		optField(ColUpdatedAt, tsUTC),
	}
}

// Reject error classes (silver.rejects.error_class): the events.Err* class
// of a parse failure.
const (
	RejectEmpty   = "empty"
	RejectNotUTF8 = "not_utf8"
	RejectSyntax  = "syntax"
	RejectMissing = "missing"
	RejectInvalid = "invalid"
	// RejectNull: bronze holds no value (a tombstone on an event topic).
	RejectNull = "null"
	// RejectFuture: the record parses but its event time lies more than
	// max_future (events.DefaultMaxFuture) after its ingestion.
	RejectFuture = "future"
)

type partitionCol struct {
	column string
	day    bool
}

// layout is how one silver table is partitioned and sorted; an unknown
// name (never declared) has neither.
func layout(name string) silverDecl {
	d, ok := silverDeclOf(name)
	if !ok {
		d.sort = SilverKey(name)
	}
	return d
}

// SilverSortColumns is the sort order of a silver table's data files
// (within a partition); silver jobs sort what they write by it.
func SilverSortColumns(name string) []string { return layout(name).sort }

// SilverPartitionColumns lists the identity partition columns after the
// day column (e.g. service for silver.events).
func SilverPartitionColumns(name string) []string {
	var out []string
	for _, p := range layout(name).partition {
		if !p.day {
			out = append(out, p.column)
		}
	}
	return out
}

// SilverTableSpec is how a silver table is created.
func SilverTableSpec(name string) (*TableSpec, error) {
	return silverSpec(name, 3, nil)
}

// SilverTableSpecWith is SilverTableSpec with promoted columns (PromotedColumn)
// after the lineage columns, where schema evolution puts them in a table
// created without them.
func SilverTableSpecWith(name string, promoted []arrow.Field) (*TableSpec, error) {
	return silverSpec(name, 3, promoted)
}

// PromotedColumn is the silver column of a field promoted out of the extra
// column (config promote): its type is one of config.PromotedTypes.
func PromotedColumn(field, typ string) (arrow.Field, error) {
	t, ok := map[string]arrow.DataType{"string": str, "long": i64, "double": arrow.PrimitiveTypes.Float64,
		"boolean": boolTy, "timestamp": tsUTC}[typ]
	if !ok {
		return arrow.Field{}, fmt.Errorf("promoted field %s: unknown type %q", field, typ)
	}
	return optField(field, t), nil
}

// ArchiveTableSpec is how the archive twin of a silver table is created:
// the same schema and layout, compressed harder (it is read rarely); its
// location is on the archive bucket (Lakehouse.TableLocation).
func ArchiveTableSpec(silver string) (*TableSpec, error) {
	return silverSpec(silver, 12, nil)
}

func silverSpec(name string, zstdLevel int, promoted []arrow.Field) (*TableSpec, error) {
	sc, err := SilverArrowSchema(name)
	if err != nil {
		return nil, err
	}
	if len(promoted) > 0 {
		fields := sc.Fields()
		for _, p := range promoted {
			if sc.HasField(p.Name) {
				return nil, fmt.Errorf("promoted field %s: %s already has a column of that name", p.Name, name)
			}
			fields = append(fields, p)
		}
		sc = arrow.NewSchema(fields, nil)
	}
	schema, err := table.ArrowSchemaToIcebergWithFreshIDs(sc, false)
	if err != nil {
		return nil, fmt.Errorf("convert silver schema %s: %w", name, err)
	}
	lay := layout(name)
	fieldID := func(col string) int {
		f, ok := schema.FindFieldByName(col)
		if !ok {
			panic(fmt.Sprintf("silver layout of %s names unknown column %s", name, col)) // programmer error
		}
		return f.ID
	}
	var parts []iceberg.PartitionField
	for i, p := range lay.partition {
		pf := iceberg.PartitionField{SourceIDs: []int{fieldID(p.column)}, FieldID: 1000 + i, Name: p.column, Transform: iceberg.IdentityTransform{}}
		if p.day {
			pf.Name, pf.Transform = p.column+"_day", iceberg.DayTransform{}
		}
		parts = append(parts, pf)
	}
	var sortFields []table.SortField
	for _, col := range lay.sort {
		sortFields = append(sortFields, table.SortField{SourceIDs: []int{fieldID(col)}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst})
	}
	order, err := table.NewSortOrder(1, sortFields)
	if err != nil {
		return nil, fmt.Errorf("silver sort order %s: %w", name, err)
	}
	props := iceberg.Properties{
		table.PropertyFormatVersion:               "2",
		table.ParquetCompressionKey:               "zstd",
		"write.parquet.compression-level":         strconv.Itoa(zstdLevel),
		table.WriteTargetFileSizeBytesKey:         strconv.Itoa(128 << 20),
		table.MetadataDeleteAfterCommitEnabledKey: "true",
		table.MetadataPreviousVersionsMaxKey:      "50",
		table.ManifestMergeEnabledKey:             "true",
		table.CommitNumRetriesKey:                 "0", // Commit retries explicitly
	}
	if len(lay.bloom) > 0 {
		// iceberg-go sizes every filter at the maximum (it takes no
		// expected count of values): row groups of at most 128k rows and
		// 128 KiB filters (8 bits a value) keep false positives near 3%
		// at any file size, and a small file of a follow-mode run pays
		// 128 KiB, not the 1 MiB default.
		props[bloomRowGroupRowsKey] = strconv.Itoa(bloomRowGroupRows)
		props[bloomMaxBytesKey] = strconv.Itoa(bloomMaxBytes)
		for _, col := range lay.bloom {
			props[bloomColumnKeyPrefix+col] = "true"
		}
	}
	if name == SilverRejects || name == ArchiveTable(SilverRejects) {
		props["write.metadata.metrics.column.value"] = "none"
		props["write.metadata.metrics.column.key"] = "none"
	}
	return &TableSpec{
		Schema:     schema,
		Spec:       iceberg.NewPartitionSpec(parts...),
		SortOrder:  order,
		Properties: props,
	}, nil
}

// Parquet bloom-filter properties of the tables with bloom columns (as
// Iceberg's Java writer names them; iceberg-go and Trino read them).
const (
	bloomColumnKeyPrefix = "write.parquet.bloom-filter-enabled.column."
	bloomMaxBytesKey     = "write.parquet.bloom-filter-max-bytes"
	bloomRowGroupRowsKey = "write.parquet.row-group-limit"
	bloomMaxBytes        = 128 << 10
	bloomRowGroupRows    = 128 << 10
)

// Snapshot-summary keys of silver commits.
const (
	// SummarySourcePrefix starts the key that records, in every silver
	// commit, the bronze snapshot the table is built up to:
	// "weir.source.<bronze table>.snapshot-id" = the id of the newest bronze
	// snapshot whose appended files the table has consumed. A silver run
	// reads only append snapshots after it; bronze snapshot expiry keeps
	// every snapshot after the oldest such id (jobs/maintain).
	SummarySourcePrefix = "weir.source."
	summarySourceSuffix = ".snapshot-id"
)

// SourceSnapshotKey is the summary key recording how far a silver table has
// consumed bronze table src.
func SourceSnapshotKey(src string) string { return SummarySourcePrefix + src + summarySourceSuffix }

// SourceSnapshots returns, per bronze table, the source snapshot id recorded
// by the newest ancestor of tbl's current snapshot that carries one.
// Snapshots of other writers (compaction, archive moves) carry none.
func SourceSnapshots(tbl *table.Table) map[string]int64 {
	out := map[string]int64{}
	for snap := range Ancestors(tbl) {
		if snap.Summary == nil {
			continue
		}
		for k, v := range snap.Summary.Properties {
			src, ok := strings.CutPrefix(k, SummarySourcePrefix)
			if !ok {
				continue
			}
			src, ok = strings.CutSuffix(src, summarySourceSuffix)
			if !ok {
				continue
			}
			if _, seen := out[src]; seen {
				continue
			}
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[src] = id
			}
		}
	}
	return out
}

// UnionView is a gold view (sql/gold/<name>.sql) over the hot and archive
// tiers of a silver table.
type UnionView struct {
	Name  string // "gold.events_all"
	Table string // "silver.events"
}

// UnionViews lists the union views of the silver tables that declare one.
func UnionViews() []UnionView {
	var out []UnionView
	for _, d := range silverDecls {
		if d.union != nil {
			_, short, _ := strings.Cut(d.name, ".")
			out = append(out, UnionView{Name: Gold + "." + short + "_all", Table: d.name})
		}
	}
	return out
}

// HotArchiveSQL is the query over a silver table's hot (table hot) and
// archive (table arch) tiers that shows each row exactly once during and
// after a move: every hot row, plus the archive rows whose key (SilverKey)
// hot lacks. A table with a union view selects its declared columns after
// a tier column; rows from the future are left out where the table has
// the column.
//
// A row is in both tiers only between a move's copy and its delete, and
// then it is the same row, with the same time and so in the same day
// partition, in both (silver's dedup already takes a key to be unique
// within its day). Such a row's day is therefore one archive holds, so the
// anti-join reads only the hot rows older than the end of archive's newest
// day partition, read from arch's $partitions metadata table: normally none
// at all (the hot tier starts where archive ends), where it read every hot
// key on every query before. With an empty archive the bound is null and
// no hot row is read.
func HotArchiveSQL(name, hot, arch string) string {
	d, _ := silverDeclOf(name)
	hotCols, archCols := "*", "a.*"
	if len(d.union) > 0 {
		a := make([]string, len(d.union))
		for i, c := range d.union {
			a[i] = "a." + c
		}
		hotCols = "'hot' AS tier, " + strings.Join(d.union, ", ")
		archCols = "'archive', " + strings.Join(a, ", ")
	}
	hotWhere, archWhere := "", ""
	if sc, err := SilverArrowSchema(name); err == nil && sc.HasField(ColIsFuture) {
		hotWhere = "\nWHERE NOT " + ColIsFuture
		archWhere = "NOT a." + ColIsFuture + "\n  AND "
	}
	var on []string
	if col := PartitionTimeColumn(name); col != "" {
		schema, tbl, _ := strings.Cut(arch, ".")
		on = append(on, fmt.Sprintf("h.%s < (SELECT with_timezone(CAST(max(p.partition.%s_day) + INTERVAL '1' DAY AS timestamp), 'UTC') FROM %s.\"%s$partitions\" p)",
			col, col, schema, tbl))
	}
	for _, k := range SilverKey(name) {
		on = append(on, fmt.Sprintf("h.%s = a.%s", k, k))
	}
	return fmt.Sprintf("SELECT %s\nFROM %s%s\nUNION ALL\nSELECT %s\nFROM %s a\nWHERE %sNOT EXISTS (SELECT 1 FROM %s h WHERE %s)",
		hotCols, hot, hotWhere, archCols, arch, archWhere, hot, strings.Join(on, "\n    AND "))
}
