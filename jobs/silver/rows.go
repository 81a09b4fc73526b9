package silver

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"weir/events"
	"weir/lakehouse"
)

// noTime marks a null timestamp (microseconds).
const noTime = int64(-1 << 63)

// bronzeRow is one bronze record as silver reads it. key and value alias
// the Arrow buffers of the batch being read: copy before keeping them.
type bronzeRow struct {
	topic      string
	partition  int32
	offset     int64
	kafkaTS    int64
	ingestedAt int64
	eventTS    int64
	key, value []byte
	nullValue  bool
}

// coords is what a silver row keeps of its bronze record.
type coords struct {
	topic      string
	partition  int32
	offset     int64
	kafkaTS    int64
	ingestedAt int64
}

func (c *coords) less(o *coords) int {
	return cmp.Or(cmp.Compare(c.topic, o.topic), cmp.Compare(c.partition, o.partition), cmp.Compare(c.offset, o.offset))
}

// codec is how one source's payloads become typed silver rows.
type codec[T any] struct {
	parse func([]byte) (T, error)
	// parserFor, when set, returns the parser of a topic's payloads (its
	// declared access-log format) in place of parse.
	parserFor func(topic string) func([]byte) (T, error)
	eventTime func(*T) time.Time
	// part is the identity partition value after the day (service), or "".
	part func(*T) string
	// sortKey is the table sort order within a partition.
	sortKey func(*T) sortKey
	// key is the dedup key; nil means the bronze coordinates are the key.
	key func(*T) string
	// appendRow fills the leading (package events) fields.
	appendRow func(b *array.RecordBuilder, v *T)
	// extra fills the table's own fields from index i on, before lineage.
	extra func(b *array.RecordBuilder, i int, v *T, d *dimLookup) int
	// extraOf returns the fields of a record its model does not know
	// (events.Extra), from which promoted columns are filled; nil: none.
	extraOf func(*T) events.Extra
}

// typedRows collects the parsed rows of one chunk for one typed table.
type typedRows[T any] struct {
	c    codec[T]
	rows []typedRow[T]

	// The parser of the last topic seen (c.parserFor): a chunk's rows come
	// from one topic, or a few.
	topic string
	parse func([]byte) (T, error)

	sortOnce sync.Once
	sorted   []sortEntry // the write order, once batches asked for it
}

type typedRow[T any] struct {
	v   T
	src coords
	day int64
}

// converter is the type-erased view of typedRows the run works with.
type converter interface {
	// grow makes room for n more rows (an estimate).
	grow(n int)
	// merge moves the rows of o (the same source's converter) into this one.
	merge(o converter)
	// add parses one bronze record; an error means reject it (errFuture
	// for an event time more than maxFuture after ingestion).
	add(r *bronzeRow, maxFuture time.Duration) error
	len() int
	// dedupKeys returns the dedup keys and the days (unix days) they fall
	// in; nil when the table dedups on coordinates.
	dedupKeys() (keys map[string]struct{}, days []int64)
	// dedup drops rows whose key is in existing, and all but the first (in
	// Kafka order) of rows sharing a key; it returns how many it dropped.
	dedup(existing map[string]struct{}) int
	// batches yields part of parts (consecutive ranges of the write
	// order) as record batches; parts may be read concurrently.
	batches(sc *arrow.Schema, d *dimLookup, part, parts int) iter.Seq2[arrow.RecordBatch, error]
}

func newTyped[T any](c codec[T]) *typedRows[T] { return &typedRows[T]{c: c} }

func (t *typedRows[T]) grow(n int) { t.rows = slices.Grow(t.rows, n) }

func (t *typedRows[T]) merge(o converter) {
	other := o.(*typedRows[T])
	t.rows = append(t.rows, other.rows...)
	other.rows = nil
}

func (t *typedRows[T]) add(r *bronzeRow, maxFuture time.Duration) error {
	if r.nullValue {
		return &events.ParseError{Reason: "null value (tombstone) on an event topic", Offset: -1, Err: errNull}
	}
	parse := t.c.parse
	if t.c.parserFor != nil {
		if t.parse == nil || r.topic != t.topic {
			t.topic, t.parse = r.topic, t.c.parserFor(r.topic)
		}
		parse = t.parse
	}
	v, err := parse(r.value)
	if err != nil {
		return err
	}
	ts := t.c.eventTime(&v)
	// Against ingested_at, not the Kafka timestamp: a producer may set the
	// latter from the same wrong clock.
	if ts.UnixMicro() > r.ingestedAt+maxFuture.Microseconds() {
		return &events.ParseError{Field: lakehouse.ColEventTS, Offset: -1, Err: errFuture,
			Reason: fmt.Sprintf("%s is more than %s after ingestion at %s", ts.Format(time.RFC3339), maxFuture, microTime(r.ingestedAt).Format(time.RFC3339))}
	}
	src := coords{topic: r.topic, partition: r.partition, offset: r.offset, kafkaTS: r.kafkaTS, ingestedAt: r.ingestedAt}
	t.rows = append(t.rows, typedRow[T]{v: v, src: src, day: unixDay(ts)})
	return nil
}

func unixDay(t time.Time) int64 {
	return int64(cmpFloorDiv(t.Unix(), 86400))
}

func cmpFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (t *typedRows[T]) len() int { return len(t.rows) }

func (t *typedRows[T]) dedupKeys() (map[string]struct{}, []int64) {
	if t.c.key == nil {
		return nil, nil
	}
	keys := make(map[string]struct{}, len(t.rows))
	days := map[int64]struct{}{}
	for i := range t.rows {
		keys[t.c.key(&t.rows[i].v)] = struct{}{}
		days[t.rows[i].day] = struct{}{}
	}
	out := make([]int64, 0, len(days))
	for d := range days {
		out = append(out, d)
	}
	slices.Sort(out)
	return keys, out
}

func (t *typedRows[T]) dedup(existing map[string]struct{}) int {
	if t.c.key == nil {
		return 0
	}
	// First in Kafka order wins, so which copy survives does not depend on
	// how bronze files were listed. One pass picks each key's first copy
	// (no sort: rows are large and a sort moves them all).
	first := make(map[string]int32, len(t.rows))
	for i := range t.rows {
		k := t.c.key(&t.rows[i].v)
		if _, dup := existing[k]; dup {
			continue
		}
		if j, ok := first[k]; !ok || t.rows[i].src.less(&t.rows[j].src) < 0 {
			first[k] = int32(i)
		}
	}
	kept := t.rows[:0]
	for i := range t.rows {
		// Row i is read before anything is written at i (len(kept) <= i).
		if j, ok := first[t.c.key(&t.rows[i].v)]; ok && int(j) == i {
			kept = append(kept, t.rows[i])
		}
	}
	dropped := len(t.rows) - len(kept)
	clear(t.rows[len(kept):])
	t.rows = kept
	return dropped
}

// maxBatchRows bounds one Arrow record batch handed to the Parquet writer.
const maxBatchRows = 64 << 10

// batches yields the rows in partition and sort order as record batches
// of sc (writeSchema: the fields of package events, the table's own, the
// lineage columns, then promoted columns).
func (t *typedRows[T]) batches(sc *arrow.Schema, d *dimLookup, part, parts int) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		lineage := -1
		if idx := sc.FieldIndices(lineageColumns[0]); len(idx) == 1 {
			lineage = idx[0]
		}
		promoted := lineage + len(lineageColumns)
		if err := checkLineage(sc, lineage); err != nil {
			yield(nil, err)
			return
		}
		lead := leading(t)
		t.sortOnce.Do(func() { t.sorted = t.order() })
		order := t.sorted[len(t.sorted)*part/parts : len(t.sorted)*(part+1)/parts]
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		for start := 0; start < len(order); {
			// A batch never spans two partitions: iceberg-go then writes
			// it as it is, instead of splitting it with a copying take.
			end := start + 1
			for end < len(order) && end-start < maxBatchRows && samePartition(&order[start], &order[end]) {
				end++
			}
			b.Reserve(end - start)
			for _, e := range order[start:end] {
				r := &t.rows[e.idx]
				t.c.appendRow(b, &r.v)
				next := lead
				if t.c.extra != nil {
					next = t.c.extra(b, lead, &r.v, d)
				}
				if next != lineage {
					yield(nil, fmt.Errorf("silver schema: typed columns end at %d, lineage starts at %d", next, lineage))
					return
				}
				appendLineage(b, lineage, &r.src)
				var extra events.Extra
				if t.c.extraOf != nil {
					extra = t.c.extraOf(&r.v)
				}
				for i := promoted; i < sc.NumFields(); i++ {
					raw, ok := extra[sc.Field(i).Name]
					appendPromoted(b.Field(i), raw, ok)
				}
			}
			if !yield(b.NewRecordBatch(), nil) {
				return
			}
			start = end
		}
	}
}

// leading is the number of package-events fields of T's table.
func leading[T any](t *typedRows[T]) int {
	var zero T
	switch any(zero).(type) {
	case events.AccessLog:
		return len(events.AccessLogFields())
	case events.AppEvent:
		return len(events.AppEventFields())
	case events.AppLog:
		return len(events.AppLogFields())
	case events.Metric:
		return len(events.MetricFields())
	}
	panic(fmt.Sprintf("silver: no leading fields for %T", zero))
}

var lineageColumns = []string{lakehouse.ColIsFuture, lakehouse.ColSourceTopic, lakehouse.ColSourcePartition, lakehouse.ColSourceOffset, lakehouse.ColKafkaTS, lakehouse.ColIngestedAt}

func checkLineage(sc *arrow.Schema, at int) error {
	if at < 0 || at+len(lineageColumns) > sc.NumFields() {
		return errors.New("silver schema: no lineage columns")
	}
	for i, name := range lineageColumns {
		if got := sc.Field(at + i).Name; got != name {
			return fmt.Errorf("silver schema: column %d is %s, want %s", at+i, got, name)
		}
	}
	return nil
}

func appendLineage(b *array.RecordBuilder, i int, c *coords) {
	b.Field(i).(*array.BooleanBuilder).Append(false) // is_future: future records are rejects
	b.Field(i + 1).(*array.StringBuilder).Append(c.topic)
	b.Field(i + 2).(*array.Int32Builder).Append(c.partition)
	b.Field(i + 3).(*array.Int64Builder).Append(c.offset)
	appendTS(b.Field(i+4).(*array.TimestampBuilder), c.kafkaTS)
	appendTS(b.Field(i+5).(*array.TimestampBuilder), c.ingestedAt)
}

func appendTS(b *array.TimestampBuilder, us int64) {
	if us == noTime {
		b.AppendNull()
		return
	}
	b.Append(arrow.Timestamp(us))
}

func appendOptStr(b array.Builder, s string) {
	sb := b.(*array.StringBuilder)
	if s == "" {
		sb.AppendNull()
		return
	}
	sb.Append(s)
}

// Endpoint is a request path without query string and fragment.
func Endpoint(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		return path[:i]
	}
	return path
}

// accessCodec reads every topic in the default format.
func accessCodec() codec[events.AccessLog] { return accessCodecFor(nil) }

// accessCodecFor reads each topic in its declared format (the default
// format where none is declared).
func accessCodecFor(formats events.AccessFormats) codec[events.AccessLog] {
	var parserFor func(string) func([]byte) (events.AccessLog, error)
	if len(formats) > 0 {
		parserFor = formats.For
	}
	return codec[events.AccessLog]{
		parse:     events.ParseAccessLog,
		parserFor: parserFor,
		eventTime: func(a *events.AccessLog) time.Time { return a.Time },
		sortKey: func(a *events.AccessLog) sortKey {
			return sortKey{t: a.Time.UnixMicro(), s2: a.ClientIP}
		},
		appendRow: events.AppendAccessLogRow,
		extra: func(b *array.RecordBuilder, i int, a *events.AccessLog, _ *dimLookup) int {
			appendOptStr(b.Field(i), Endpoint(a.Path))
			return i + 1
		},
	}
}

func appEventCodec() codec[events.AppEvent] {
	return codec[events.AppEvent]{
		parse:     events.ParseAppEvent,
		eventTime: func(e *events.AppEvent) time.Time { return e.TS },
		part:      func(e *events.AppEvent) string { return e.Service },
		sortKey: func(e *events.AppEvent) sortKey {
			return sortKey{s1: e.Type, t: e.TS.UnixMicro(), s2: e.ActionID}
		},
		key:       func(e *events.AppEvent) string { return e.EventID },
		appendRow: events.AppendAppEventRow,
		extraOf:   func(e *events.AppEvent) events.Extra { return e.Extra },
		extra: func(b *array.RecordBuilder, i int, e *events.AppEvent, d *dimLookup) int {
			it, pr := d.item(e.Item), d.provider(e.Provider)
			appendOptStr(b.Field(i), it.Name)
			appendOptStr(b.Field(i+1), it.Category)
			appendOptStr(b.Field(i+2), pr.Name)
			appendOptStr(b.Field(i+3), pr.Kind)
			return i + 4
		},
	}
}

func appLogCodec() codec[events.AppLog] {
	return codec[events.AppLog]{
		parse:     events.ParseAppLog,
		eventTime: func(l *events.AppLog) time.Time { return l.TS },
		part:      func(l *events.AppLog) string { return l.Service },
		sortKey: func(l *events.AppLog) sortKey {
			return sortKey{s1: l.Level, t: l.TS.UnixMicro()}
		},
		appendRow: events.AppendAppLogRow,
		extraOf:   func(l *events.AppLog) events.Extra { return l.Extra },
	}
}

func metricCodec() codec[events.Metric] {
	return codec[events.Metric]{
		parse:     events.ParseMetric,
		eventTime: func(m *events.Metric) time.Time { return m.TS },
		sortKey: func(m *events.Metric) sortKey {
			return sortKey{s1: m.Host, t: m.TS.UnixMicro()}
		},
		appendRow: events.AppendMetricRow,
		extraOf:   func(m *events.Metric) events.Extra { return m.Extra },
	}
}

// newConverter returns the typed rows of an event source, access logs in
// the default format.
func newConverter(source string) converter { return newConverterFor(source, nil) }

// newConverterFor returns the typed rows of an event source, access logs
// in the formats declared for their topics.
func newConverterFor(source string, formats events.AccessFormats) converter {
	switch source {
	case SourceWebAccess:
		return newTyped(accessCodecFor(formats))
	case SourceAppEvents:
		return newTyped(appEventCodec())
	case SourceAppLogs:
		return newTyped(appLogCodec())
	case SourceMetrics:
		return newTyped(metricCodec())
	}
	panic("silver: no converter for source " + source) // ValidateSource ran
}

// appendPromoted appends a promoted column's value: the JSON text raw of
// the field (ok: present in extra) converted to the column's type. A field
// that is absent, null, or of another type is null (extra keeps its text).
func appendPromoted(b array.Builder, raw string, ok bool) {
	if !ok {
		b.AppendNull()
		return
	}
	s, quoted := jsonText(raw)
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(s) // a number or object as its JSON text
	case *array.Int64Builder:
		if v, err := strconv.ParseInt(raw, 10, 64); err == nil {
			b.Append(v)
		} else if f, err := strconv.ParseFloat(raw, 64); err == nil && !quoted && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			b.Append(int64(f))
		} else {
			b.AppendNull()
		}
	case *array.Float64Builder:
		if f, err := strconv.ParseFloat(raw, 64); err == nil && !quoted {
			b.Append(f)
		} else {
			b.AppendNull()
		}
	case *array.BooleanBuilder:
		if raw == "true" || raw == "false" {
			b.Append(raw == "true")
		} else {
			b.AppendNull()
		}
	case *array.TimestampBuilder:
		ts, err := time.Parse(time.RFC3339Nano, s)
		if !quoted || err != nil {
			b.AppendNull()
			return
		}
		v, err := arrow.TimestampFromTime(ts, b.Type().(*arrow.TimestampType).Unit)
		if err != nil {
			b.AppendNull()
			return
		}
		b.Append(v)
	default:
		b.AppendNull()
	}
}

// jsonText decodes raw when it is a JSON string (quoted); other JSON text
// is returned as it is.
func jsonText(raw string) (s string, quoted bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return raw, false
	}
	if !strings.Contains(raw, "\\") {
		return raw[1 : len(raw)-1], true
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return raw, false
	}
	return s, true
}
