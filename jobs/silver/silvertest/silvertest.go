// Package silvertest gives the integration tests of the batch jobs
// (jobs/silver, jobs/maintain, jobs/archive) a lakehouse of their own on the
// real local stack: fresh namespaces per test, bronze tables filled the way
// the stream job fills them (same schema, Kafka coordinates, offsets in the
// snapshot summary), generated input with its expected counts, and row
// counts read back through the catalog. Nothing here is a fake: it talks
// to the running catalog and MinIO.
package silvertest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/config"
	"weir/events"
	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/lakehouse"
)

// Env is one test's lakehouse: namespaces <prefix>_bronze, <prefix>_silver,
// <prefix>_archive.
type Env struct {
	Lake *lakehouse.Lakehouse
	NS   silver.Namespaces
	// Partitions is the number of Kafka partitions records are spread over.
	Partitions int32
	// CommitHook, when set, is called at the fault points of LoadBronze's
	// commits (lakehouse.CommitOptions.Hook): a test can hold a commit
	// in flight, its files written and not committed.
	CommitHook func(point string)
	next       map[lakehouse.TopicPartition]int64
}

// New opens the lakehouse from the environment (source .stack/env.sh) and
// creates the test's namespaces; they are dropped with their tables at the
// end of the test.
func New(t testing.TB) *Env {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	lake, err := lakehouse.Open(ctx, cfg)
	if err != nil {
		t.Skipf("lakehouse not reachable (source .stack/env.sh): %v", err)
	}
	prefix := stacktest.Namespace(t)
	ns := silver.Namespaces{Bronze: prefix + "_bronze", Silver: prefix + "_silver", Archive: prefix + "_archive"}
	if err := lake.EnsureNamespace(ctx, ns.Bronze, ns.Silver, ns.Archive); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{ns.Bronze, ns.Silver, ns.Archive} {
			for id, err := range lake.Catalog.ListTables(ctx, table.Identifier{n}) {
				if err != nil {
					break
				}
				_ = lake.Catalog.DropTable(ctx, id)
			}
			_ = lake.Catalog.DropNamespace(ctx, table.Identifier{n})
		}
		lake.Close()
	})
	return &Env{Lake: lake, NS: ns, Partitions: 3, next: map[lakehouse.TopicPartition]int64{}}
}

// Record is one Kafka record.
type Record struct {
	Topic      string
	Key, Value []byte
}

// Sink collects generated records in memory (a generate.Sink).
type Sink struct{ Records []Record }

// Produce implements generate.Sink.
func (s *Sink) Produce(_ context.Context, topic string, key, value []byte) error {
	s.Records = append(s.Records, Record{Topic: topic, Key: append([]byte(nil), key...), Value: append([]byte(nil), value...)})
	return nil
}

// Generate runs the generator over [start, end) at rate records/s with the
// given fault rates and returns its records and summary.
// Options (if any) adjust the configuration further.
func Generate(t testing.TB, start, end time.Time, rate float64, faults generate.FaultRates, options ...func(*generate.Config)) ([]Record, *generate.Summary) {
	t.Helper()
	cfg := generate.Default(start)
	cfg.End, cfg.Rate, cfg.Faults, cfg.Users = end, rate, faults, 300
	cfg.AnomalyEvery = time.Hour
	for _, o := range options {
		o(&cfg)
	}
	g, err := generate.New(cfg)
	if err != nil {
		t.Fatalf("new generator: %v", err)
	}
	var sink Sink
	sum, err := g.Run(context.Background(), &sink, nopWriter{})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return sink.Records, sum
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// LoadBronze appends records to the bronze tables in one commit per table,
// as the stream job does: partition by key hash, consecutive offsets, the
// next offsets in the summary, kafka_ts and ingested_at = now.
func (e *Env) LoadBronze(t testing.TB, recs []Record, now time.Time) {
	t.Helper()
	ctx := context.Background()
	byTable := map[string][]Record{}
	for _, r := range recs {
		name := e.NS.Table(lakehouse.BronzeTable(r.Topic))
		byTable[name] = append(byTable[name], r)
	}
	for name, rs := range byTable {
		if err := e.appendBronze(ctx, name, rs, now); err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
	}
}

func (e *Env) appendBronze(ctx context.Context, name string, recs []Record, now time.Time) error {
	spec := lakehouse.BronzeTableSpec(false)
	ns, short, _ := strings.Cut(name, ".")
	spec.Location = e.Lake.TableLocation(ns, short)
	tbl, err := lakehouse.LoadOrCreate(ctx, e.Lake.Catalog, lakehouse.Ident(name), spec)
	if err != nil {
		return err
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	offsets := map[lakehouse.TopicPartition]int64{}
	nowUS := arrow.Timestamp(now.UnixMicro())
	for _, r := range recs {
		h := fnv.New32a()
		h.Write(r.Key)
		tp := lakehouse.TopicPartition{Topic: r.Topic, Partition: int32(h.Sum32() % uint32(e.Partitions))}
		off := e.next[tp]
		e.next[tp] = off + 1
		offsets[tp] = off + 1
		for i, f := range sc.Fields() {
			fb := b.Field(i)
			switch f.Name {
			case lakehouse.ColTopic:
				fb.(*array.StringBuilder).Append(r.Topic)
			case lakehouse.ColPartition:
				fb.(*array.Int32Builder).Append(tp.Partition)
			case lakehouse.ColOffset:
				fb.(*array.Int64Builder).Append(off)
			case lakehouse.ColKafkaTS, lakehouse.ColIngestedAt:
				fb.(*array.TimestampBuilder).Append(nowUS)
			case lakehouse.ColKey:
				fb.(*array.BinaryBuilder).Append(r.Key)
			case lakehouse.ColValue:
				fb.(*array.BinaryBuilder).Append(r.Value)
			case lakehouse.ColEventTS:
				if ts, ok := events.BestEffortEventTime(r.Topic, r.Value); ok {
					fb.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
				} else {
					fb.AppendNull()
				}
			default:
				fb.AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	var files []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, tbl, sc, func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) }) {
		if err != nil {
			return err
		}
		files = append(files, df)
	}
	_, err = lakehouse.Commit(ctx, e.Lake.Catalog, lakehouse.Ident(name), func(ctx context.Context, a *lakehouse.Attempt) error {
		props := maps.Clone(a.Summary)
		recorded := lakehouse.RecordedOffsets(a.Table)
		maps.Copy(recorded, offsets)
		maps.Copy(props, lakehouse.OffsetSummary(recorded))
		return a.Tx.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck())
	}, lakehouse.CommitOptions{Hook: e.CommitHook})
	return err
}

// Count returns the number of rows of a table (0 if it does not exist).
func (e *Env) Count(t testing.TB, name string) int64 {
	t.Helper()
	tbl, err := e.Lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(name))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return 0
	}
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	n, err := CountRows(context.Background(), tbl)
	if err != nil {
		t.Fatalf("count %s: %v", name, err)
	}
	return n
}

// CountRows sums the record counts of the current data files (weir's
// tables have no delete files: deletes drop whole files).
func CountRows(ctx context.Context, tbl *table.Table) (int64, error) {
	if tbl.CurrentSnapshot() == nil {
		return 0, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, task := range tasks {
		if len(task.DeleteFiles) > 0 {
			return 0, fmt.Errorf("%s has delete files", strings.Join(tbl.Identifier(), "."))
		}
		n += task.File.Count()
	}
	return n, nil
}

// Files returns the number of data files of a table.
func (e *Env) Files(t testing.TB, name string) int {
	t.Helper()
	tbl, err := e.Lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	if tbl.CurrentSnapshot() == nil {
		return 0
	}
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatalf("plan %s: %v", name, err)
	}
	return len(tasks)
}

// CountWhereTrue counts the rows of tbl whose boolean col is true.
func CountWhereTrue(ctx context.Context, tbl *table.Table, col string) (int64, error) {
	return countWhere(ctx, tbl, col, func(a *array.Boolean, i int) bool { return a.Value(i) })
}

// CountWhereEqual counts the rows of tbl whose string col equals value.
func CountWhereEqual(ctx context.Context, tbl *table.Table, col, value string) (int64, error) {
	return countWhere(ctx, tbl, col, func(a *array.String, i int) bool { return a.Value(i) == value })
}

// countWhere counts the rows of tbl whose col (an A) is not null and matches.
func countWhere[A arrow.Array](ctx context.Context, tbl *table.Table, col string, match func(A, int) bool) (int64, error) {
	var n int64
	err := scanColumn(ctx, tbl, col, func(c arrow.Array) error {
		arr, ok := c.(A)
		if !ok {
			return fmt.Errorf("column %s is %s", col, c.DataType())
		}
		for i := 0; i < arr.Len(); i++ {
			if arr.IsValid(i) && match(arr, i) {
				n++
			}
		}
		return nil
	})
	return n, err
}

// CountNotNull counts the rows of tbl whose col is not null.
func CountNotNull(ctx context.Context, tbl *table.Table, col string) (int64, error) {
	var n int64
	err := scanColumn(ctx, tbl, col, func(c arrow.Array) error {
		n += int64(c.Len() - c.NullN())
		return nil
	})
	return n, err
}

// scanColumn hands each batch of tbl's column col to fn.
func scanColumn(ctx context.Context, tbl *table.Table, col string, fn func(arrow.Array) error) error {
	if tbl.CurrentSnapshot() == nil {
		return nil
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields(col)).ToArrowRecords(ctx)
	if err != nil {
		return err
	}
	for rec, err := range recs {
		if err != nil {
			return err
		}
		err = fn(rec.Column(0))
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// AccessExtras reads client_ip and the extra map of every row of an access
// table (namespaced name), one "ip k=v;k=v" line per row (keys in map
// order), sorted.
func (e *Env) AccessExtras(t testing.TB, name string) []string {
	t.Helper()
	ctx := context.Background()
	tbl, err := e.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields("client_ip", events.ExtraField)).ToArrowRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rec, err := range recs {
		if err != nil {
			t.Fatal(err)
		}
		ip, m := rec.Column(0).(*array.String), rec.Column(1).(*array.Map)
		keys, items := m.Keys().(*array.String), m.Items().(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			start, end := m.ValueOffsets(i)
			var kv []string
			for j := start; j < end; j++ {
				kv = append(kv, keys.Value(int(j))+"="+items.Value(int(j)))
			}
			out = append(out, ip.Value(i)+" "+strings.Join(kv, ";"))
		}
		rec.Release()
	}
	slices.Sort(out)
	return out
}
