package lakehouse

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Bronze tables (DESIGN §3): one per source topic, all dims.* topics in one,
// and the dead letters of every topic.
const (
	BronzeWebAccess   = "bronze.web_access"
	BronzeAppEvents   = "bronze.app_events"
	BronzeAppLogs     = "bronze.app_logs"
	BronzeMetrics     = "bronze.infra_metrics"
	BronzeDims        = "bronze.dims"
	BronzeDeadLetters = "bronze.dead_letters"
)

// BronzeTable is the bronze table that lands topic: web.access →
// bronze.web_access, dims.* → bronze.dims, any other topic → bronze.<topic
// with dots and dashes as underscores>.
func BronzeTable(topic string) string {
	if strings.HasPrefix(topic, "dims.") {
		return BronzeDims
	}
	return Bronze + "." + strings.NewReplacer(".", "_", "-", "_").Replace(topic)
}

// Bronze column names.
const (
	ColTopic      = "topic"
	ColPartition  = "partition"
	ColOffset     = "offset"
	ColKafkaTS    = "kafka_ts"
	ColKey        = "key"
	ColValue      = "value"
	ColHeaders    = "headers"
	ColIngestedAt = "ingested_at"
	ColEventTS    = "event_ts"
	ColReason     = "reason"
)

// BronzeSchema is the schema of every bronze topic table: the record as-is
// plus its Kafka coordinates. value is null only for tombstones of compacted
// topics; headers is a JSON array of {"key","value"} objects (null without
// headers); event_ts is a best-effort parse of the payload's own time.
func BronzeSchema() *iceberg.Schema {
	return iceberg.NewSchema(0, bronzeFields()...)
}

// DeadLetterSchema is BronzeSchema plus the reason the record could not be
// stored in its topic table. Dead-letter headers keep raw bytes as
// {"key","value_base64"} objects, and an oversized value is truncated.
func DeadLetterSchema() *iceberg.Schema {
	fields := append(bronzeFields(), iceberg.NestedField{ID: 10, Name: ColReason, Type: iceberg.PrimitiveTypes.String, Required: true})
	return iceberg.NewSchema(0, fields...)
}

func bronzeFields() []iceberg.NestedField {
	return []iceberg.NestedField{
		{ID: 1, Name: ColTopic, Type: iceberg.PrimitiveTypes.String, Required: true},
		{ID: 2, Name: ColPartition, Type: iceberg.PrimitiveTypes.Int32, Required: true},
		{ID: 3, Name: ColOffset, Type: iceberg.PrimitiveTypes.Int64, Required: true},
		{ID: 4, Name: ColKafkaTS, Type: iceberg.PrimitiveTypes.TimestampTz},
		{ID: 5, Name: ColKey, Type: iceberg.PrimitiveTypes.Binary},
		{ID: 6, Name: ColValue, Type: iceberg.PrimitiveTypes.Binary},
		{ID: 7, Name: ColHeaders, Type: iceberg.PrimitiveTypes.String},
		{ID: 8, Name: ColIngestedAt, Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
		{ID: 9, Name: ColEventTS, Type: iceberg.PrimitiveTypes.TimestampTz},
	}
}

// BronzeTableSpec is how a bronze table is created: partitioned by
// day(ingested_at), sorted by topic, partition, offset, Parquet with zstd.
// BronzeDayPartitionField is the partition field id of a bronze table's
// day(ingested_at) partition.
const BronzeDayPartitionField = 1000

func BronzeTableSpec(deadLetters bool) *TableSpec {
	schema := BronzeSchema()
	if deadLetters {
		schema = DeadLetterSchema()
	}
	order, err := table.NewSortOrder(1, []table.SortField{
		{SourceIDs: []int{1}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst},
		{SourceIDs: []int{2}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst},
		{SourceIDs: []int{3}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst},
	})
	if err != nil {
		panic(fmt.Sprintf("bronze sort order: %v", err)) // constant input
	}
	return &TableSpec{
		Schema: schema,
		Spec: iceberg.NewPartitionSpec(iceberg.PartitionField{
			SourceIDs: []int{8}, FieldID: BronzeDayPartitionField, Name: "ingested_at_day", Transform: iceberg.DayTransform{},
		}),
		SortOrder: order,
		Properties: iceberg.Properties{
			table.PropertyFormatVersion:               "2",
			table.ParquetCompressionKey:               "zstd",
			table.WriteTargetFileSizeBytesKey:         strconv.Itoa(128 << 20),
			table.MetadataDeleteAfterCommitEnabledKey: "true",
			table.MetadataPreviousVersionsMaxKey:      "50",
			table.ManifestMergeEnabledKey:             "true",
			table.CommitNumRetriesKey:                 "0", // Commit retries explicitly
			// A commit every few seconds makes thousands of snapshots a
			// day; expiry (maintenance) keeps an hour and, whatever its
			// age, the newest snapshot carrying offsets.
			table.MaxSnapshotAgeMsKey:               "3600000",
			table.MinSnapshotsToKeepKey:             "20",
			"write.parquet.compression-level":       "1", // raw landing: speed over ratio
			"write.metadata.metrics.column.value":   "none",
			"write.metadata.metrics.column.key":     "none",
			"write.metadata.metrics.column.headers": "none",
		},
	}
}

// TopicPartition names one Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s/%d", tp.Topic, tp.Partition) }

// SummaryOffsetPrefix starts the snapshot-summary keys of a bronze commit
// that record Kafka offsets: "weir.offset.<topic>.<partition>" = the next
// offset to read from that partition, i.e. every record of the partition
// below it that belongs to the table is in the table and none at or above
// it. Every bronze commit carries the offsets of all partitions the table has
// ever recorded (not only those it covers), so the newest snapshot with such
// keys holds the table's whole position; maintenance must never expire that
// snapshot. Topic names may contain dots: the partition is after the last one.
const SummaryOffsetPrefix = "weir.offset."

// OffsetSummary encodes offsets as snapshot-summary properties.
func OffsetSummary(offsets map[TopicPartition]int64) map[string]string {
	out := make(map[string]string, len(offsets))
	for tp, next := range offsets {
		out[fmt.Sprintf("%s%s.%d", SummaryOffsetPrefix, tp.Topic, tp.Partition)] = strconv.FormatInt(next, 10)
	}
	return out
}

// ParseOffsetSummary decodes the offset keys of a snapshot summary; other
// keys, and malformed offset keys, are ignored.
func ParseOffsetSummary(props map[string]string) map[TopicPartition]int64 {
	out := map[TopicPartition]int64{}
	for k, v := range props {
		tp, ok := parseOffsetKey(k)
		if !ok {
			continue
		}
		next, err := strconv.ParseInt(v, 10, 64)
		if err != nil || next < 0 {
			continue
		}
		out[tp] = next
	}
	return out
}

func parseOffsetKey(k string) (TopicPartition, bool) {
	rest, ok := strings.CutPrefix(k, SummaryOffsetPrefix)
	if !ok {
		return TopicPartition{}, false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot <= 0 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(rest[dot+1:], 10, 32)
	if err != nil || p < 0 {
		return TopicPartition{}, false
	}
	return TopicPartition{Topic: rest[:dot], Partition: int32(p)}, true
}

// RecordedOffsets returns the next offset of every partition recorded in the
// table's snapshot history: for each partition the value of the newest
// ancestor of the current snapshot that carries it. Snapshots written by
// other jobs (compaction, expiry) carry none and are skipped. A table without
// snapshots records nothing.
func RecordedOffsets(tbl *table.Table) map[TopicPartition]int64 {
	out := map[TopicPartition]int64{}
	for snap := range Ancestors(tbl) {
		if snap.Summary == nil {
			continue
		}
		for tp, next := range ParseOffsetSummary(snap.Summary.Properties) {
			if _, seen := out[tp]; !seen {
				out[tp] = next
			}
		}
	}
	return out
}

// SortedPartitions returns the keys of offsets in topic, partition order.
func SortedPartitions[V any](offsets map[TopicPartition]V) []TopicPartition {
	tps := make([]TopicPartition, 0, len(offsets))
	for tp := range offsets {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	return tps
}

// LatestOffsetSnapshot returns the newest ancestor of the current snapshot
// whose summary records Kafka offsets, or nil. Snapshot expiry must keep it:
// without it the stream job would re-read its topics from the beginning.
func LatestOffsetSnapshot(tbl *table.Table) *table.Snapshot {
	for snap := range Ancestors(tbl) {
		if snap.Summary == nil {
			continue
		}
		for k := range snap.Summary.Properties {
			if _, ok := parseOffsetKey(k); ok {
				return snap
			}
		}
	}
	return nil
}
