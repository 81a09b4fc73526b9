package silver

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"

	"weir/jobs/generate"
	"weir/lakehouse"
)

// TestCodecsMatchRegistry: the typed codecs restate, for speed, each silver
// table's partition value, sort key and dedup key; the table registry
// (lakehouse.Tables: the specs weir init creates) is where they are
// declared. For generated rows of every source, each codec accessor must
// return exactly the value of the column the registry names: the day
// partition column for eventTime, the identity partition column for part,
// the sort columns (strings before the time → s1, the time → t, strings
// after it → s2) for sortKey, the key column for key (nil only where the
// registry keys the table by its bronze coordinates).
func TestCodecsMatchRegistry(t *testing.T) {
	byTopic := generated(t)
	defs := map[string]lakehouse.TableDef{}
	for _, d := range lakehouse.Tables() {
		defs[d.Name] = d
	}
	for _, source := range []string{SourceWebAccess, SourceAppEvents, SourceAppLogs, SourceMetrics} {
		t.Run(source, func(t *testing.T) {
			table := mainTable(source)
			def, ok := defs[table]
			if !ok {
				t.Fatalf("%s is not in lakehouse.Tables()", table)
			}
			var payloads [][]byte
			for topic, vals := range byTopic {
				if lakehouse.BronzeTable(topic) == bronzeTable(source) {
					payloads = vals
				}
			}
			if len(payloads) == 0 {
				t.Fatalf("the generator wrote nothing for %s", source)
			}
			switch source {
			case SourceWebAccess:
				checkCodec(t, def, accessCodec(), payloads)
			case SourceAppEvents:
				checkCodec(t, def, appEventCodec(), payloads)
			case SourceAppLogs:
				checkCodec(t, def, appLogCodec(), payloads)
			case SourceMetrics:
				checkCodec(t, def, metricCodec(), payloads)
			}
		})
	}
}

// generated is 20 minutes of generated traffic's payloads by topic.
func generated(t *testing.T) map[string][][]byte {
	t.Helper()
	start := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	cfg := generate.Default(start)
	cfg.End, cfg.Rate, cfg.Users = start.Add(20*time.Minute), 5, 50
	g, err := generate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := topicSink{}
	if _, err := g.Run(context.Background(), sink, io.Discard); err != nil {
		t.Fatal(err)
	}
	return sink
}

type topicSink map[string][][]byte

func (s topicSink) Produce(_ context.Context, topic string, _, value []byte) error {
	s[topic] = append(s[topic], append([]byte(nil), value...))
	return nil
}

// registryLayout is what the registry's spec of a table says: the day
// partition column, identity partition columns, sort columns and key.
type registryLayout struct {
	day      string
	identity []string
	sort     []string
	key      []string
}

func layoutOf(t *testing.T, def lakehouse.TableDef) registryLayout {
	t.Helper()
	spec, err := def.Spec()
	if err != nil {
		t.Fatal(err)
	}
	name := func(id int) string {
		n, ok := spec.Schema.FindColumnName(id)
		if !ok {
			t.Fatalf("%s: no column with id %d", def.Name, id)
		}
		return n
	}
	l := registryLayout{key: def.Key}
	for _, f := range spec.Spec.Fields() {
		switch f.Transform.(type) {
		case iceberg.DayTransform:
			l.day = name(f.SourceIDs[0])
		case iceberg.IdentityTransform:
			l.identity = append(l.identity, name(f.SourceIDs[0]))
		default:
			t.Fatalf("%s: partition transform %s", def.Name, f.Transform)
		}
	}
	for _, f := range spec.SortOrder.Fields() {
		l.sort = append(l.sort, name(f.SourceIDs[0]))
	}
	return l
}

func checkCodec[T any](t *testing.T, def lakehouse.TableDef, c codec[T], payloads [][]byte) {
	t.Helper()
	l := layoutOf(t, def)
	sc, err := lakehouse.SilverArrowSchema(def.Name)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	var rows []T
	for _, p := range payloads {
		v, err := c.parse(p)
		if err != nil {
			continue // a generated fault: rejected, never written
		}
		c.appendRow(b, &v)
		rows = append(rows, v)
	}
	if len(rows) < 10 {
		t.Fatalf("only %d valid rows", len(rows))
	}
	// column reads column col of the rows as appendRow wrote them.
	cache := map[string]arrow.Array{}
	column := func(col string, i int) any {
		arr, ok := cache[col]
		if !ok {
			idx := sc.FieldIndices(col)
			if len(idx) != 1 {
				t.Fatalf("%s: no column %s in the silver schema", def.Name, col)
			}
			arr = b.Field(idx[0]).NewArray()
			cache[col] = arr
		}
		if arr.Len() != len(rows) {
			t.Fatalf("%s: appendRow wrote %d values of %s for %d rows", def.Name, arr.Len(), col, len(rows))
		}
		switch a := arr.(type) {
		case *array.String:
			if a.IsNull(i) {
				return ""
			}
			return a.Value(i)
		case *array.Timestamp:
			return int64(a.Value(i))
		}
		t.Fatalf("%s: column %s is %s, not a string or timestamp", def.Name, col, arr.DataType())
		return nil
	}

	// The time column splits the sort columns into s1 (before) and s2.
	ti := slices.Index(l.sort, l.day)
	if ti < 0 || ti > 1 || len(l.sort)-ti > 2 {
		t.Fatalf("%s sorts by %v: the codec's sortKey holds (string, %s, string)", def.Name, l.sort, l.day)
	}
	for i := range rows {
		v := &rows[i]
		if got, want := c.eventTime(v).UnixMicro(), column(l.day, i); got != want {
			t.Fatalf("%s row %d: eventTime %d, registry's day partition column %s = %v", def.Name, i, got, l.day, want)
		}
		switch {
		case c.part == nil && len(l.identity) != 0:
			t.Fatalf("%s: the codec has no partition value, the registry partitions by %v", def.Name, l.identity)
		case c.part != nil && len(l.identity) != 1:
			t.Fatalf("%s: the codec has one partition value, the registry partitions by %v", def.Name, l.identity)
		case c.part != nil:
			if got, want := c.part(v), column(l.identity[0], i); got != want {
				t.Fatalf("%s row %d: part %q, registry's partition column %s = %q", def.Name, i, got, l.identity[0], want)
			}
		}
		k := c.sortKey(v)
		want := sortKey{}
		if ti == 1 {
			want.s1 = column(l.sort[0], i).(string)
		}
		want.t = column(l.day, i).(int64)
		if ti+1 < len(l.sort) {
			want.s2 = column(l.sort[ti+1], i).(string)
		}
		if k != want {
			t.Fatalf("%s row %d: sortKey %+v, registry's sort columns %v give %+v", def.Name, i, k, l.sort, want)
		}
		switch {
		case c.key == nil:
			if coords := []string{lakehouse.ColSourceTopic, lakehouse.ColSourcePartition, lakehouse.ColSourceOffset}; !slices.Equal(l.key, coords) {
				t.Fatalf("%s: the codec keys rows by their bronze coordinates, the registry by %v", def.Name, l.key)
			}
		case len(l.key) != 1:
			t.Fatalf("%s: the codec has a one-column key, the registry keys by %v", def.Name, l.key)
		default:
			if got, want := c.key(v), column(l.key[0], i); got != want {
				t.Fatalf("%s row %d: key %q, registry's key column %s = %q", def.Name, i, got, l.key[0], want)
			}
		}
	}
	t.Logf("%d rows: day %s, partition %v, sort %v, key %v", len(rows), l.day, l.identity, l.sort, l.key)
}
