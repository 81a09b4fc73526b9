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

// SilverTables lists the silver tables in build order (dims before the
// events they enrich).
var SilverTables = []string{SilverDimItems, SilverDimProviders, SilverAccessLogs, SilverEvents, SilverLogs, SilverMetrics, SilverRejects}

// ArchivedTables lists the silver tables the hot/archive split applies to.
var ArchivedTables = []string{SilverAccessLogs, SilverEvents, SilverLogs, SilverMetrics, SilverRejects}

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
	switch strings.TrimPrefix(strings.TrimPrefix(name, Silver+"."), Archive+".") {
	case "events":
		return []string{"event_id"}
	case "dim_items":
		return []string{"item"}
	case "dim_providers":
		return []string{"provider"}
	default:
		return []string{ColSourceTopic, ColSourcePartition, ColSourceOffset}
	}
}

// PartitionTimeColumn is the timestamp column whose day partitions a
// silver table: event_ts, or ingested_at for rejects (which may have no
// event time). Empty for the unpartitioned dimension tables.
func PartitionTimeColumn(name string) string {
	switch strings.TrimPrefix(strings.TrimPrefix(name, Silver+"."), Archive+".") {
	case "rejects":
		return ColIngestedAt
	case "dim_items", "dim_providers":
		return ""
	default:
		return ColEventTS
	}
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
	var fields []arrow.Field
	switch strings.TrimPrefix(strings.TrimPrefix(name, Silver+"."), Archive+".") {
	case "access_logs":
		fields = append(events.AccessLogFields(), optField(ColEndpoint, str))
		fields = append(fields, lineageFields()...)
	case "events":
		fields = append(events.AppEventFields(),
			optField(ColItemName, str), optField(ColItemCategory, str),
			optField(ColProviderName, str), optField(ColProviderKind, str))
		fields = append(fields, lineageFields()...)
	case "logs":
		fields = append(events.AppLogFields(), lineageFields()...)
	case "metrics":
		fields = append(events.MetricFields(), lineageFields()...)
	case "dim_items":
		fields = append(events.DimItemFields(), dimLineage()...)
	case "dim_providers":
		fields = append(events.DimProviderFields(), dimLineage()...)
	case "rejects":
		fields = []arrow.Field{
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
	default:
		return nil, fmt.Errorf("silver schema: unknown table %q", name)
	}
	return arrow.NewSchema(fields, nil), nil
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

// silverLayout is how one silver table is partitioned and sorted.
type silverLayout struct {
	partition []partitionCol // day(first) plus identity columns
	sort      []string
}

type partitionCol struct {
	column string
	day    bool
}

func layout(name string) silverLayout {
	switch strings.TrimPrefix(strings.TrimPrefix(name, Silver+"."), Archive+".") {
	case "access_logs":
		// Access queries aggregate across all clients over days; sorting by
		// time keeps interval scans narrow.
		return silverLayout{partition: []partitionCol{{ColEventTS, true}}, sort: []string{ColEventTS, "client_ip"}}
	case "events":
		// Most event queries filter by service and type over an interval.
		return silverLayout{
			partition: []partitionCol{{ColEventTS, true}, {"service", false}},
			sort:      []string{"type", ColEventTS, "action_id"},
		}
	case "logs":
		return silverLayout{
			partition: []partitionCol{{ColEventTS, true}, {"service", false}},
			sort:      []string{"level", ColEventTS},
		}
	case "metrics":
		return silverLayout{partition: []partitionCol{{ColEventTS, true}}, sort: []string{"host", ColEventTS}}
	case "rejects":
		return silverLayout{
			partition: []partitionCol{{ColIngestedAt, true}, {ColSourceTopic, false}},
			sort:      []string{ColSourcePartition, ColSourceOffset},
		}
	default: // dimensions: small, unpartitioned
		return silverLayout{sort: SilverKey(name)}
	}
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
	return silverSpec(name, 3)
}

// ArchiveTableSpec is how the archive twin of a silver table is created:
// the same schema and layout, compressed harder (it is read rarely); its
// location is on the archive bucket (Lakehouse.TableLocation).
func ArchiveTableSpec(silver string) (*TableSpec, error) {
	return silverSpec(silver, 12)
}

func silverSpec(name string, zstdLevel int) (*TableSpec, error) {
	sc, err := SilverArrowSchema(name)
	if err != nil {
		return nil, err
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
