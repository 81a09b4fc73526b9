//go:build integration

package lakehouse_test

// Integration tests of lakehouse.Commit against the real JDBC catalog on
// PostgreSQL and MinIO. Run: source .stack/env.sh && go test -tags
// integration -run Commit ./lakehouse/

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"weir/config"
	"weir/internal/stacktest"
	"weir/lakehouse"
)

func openLake(t *testing.T) *lakehouse.Lakehouse {
	t.Helper()
	if os.Getenv("WEIR_S3_SECRET_KEY") == "" {
		exportStackEnv(t)
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	l, err := lakehouse.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.EnsureNamespaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// exportStackEnv points the test at the native stack (its env.sh).
func exportStackEnv(t *testing.T) {
	stacktest.ExportEnv(t)
}

func testTable(t *testing.T, l *lakehouse.Lakehouse) (table.Identifier, *lakehouse.TableSpec) {
	t.Helper()
	name := fmt.Sprintf("it_commit_%08x", rand.Uint32())
	ident := table.Identifier{lakehouse.Bronze, name}
	t.Cleanup(func() {
		if err := l.Catalog.PurgeTable(context.Background(), ident); err != nil && !errors.Is(err, catalog.ErrNoSuchTable) {
			t.Logf("purge %v: %v", ident, err)
		}
	})
	schema := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "writer", Type: iceberg.PrimitiveTypes.Int32, Required: true},
		iceberg.NestedField{ID: 2, Name: "seq", Type: iceberg.PrimitiveTypes.Int32, Required: true},
	)
	spec := &lakehouse.TableSpec{Schema: schema, Spec: *iceberg.UnpartitionedSpec, SortOrder: table.UnsortedSortOrder,
		Properties: iceberg.Properties{table.PropertyFormatVersion: "2"}, Location: l.TableLocation(ident[0], ident[1])}
	return ident, spec
}

// appendRow stages one row (writer, seq) with the attempt's summary.
func appendRow(writer, seq int32) lakehouse.BuildFunc {
	return func(ctx context.Context, a *lakehouse.Attempt) error {
		sc, err := table.SchemaToArrowSchema(a.Table.Schema(), nil, true, false)
		if err != nil {
			return err
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		b.Field(0).(*array.Int32Builder).Append(writer)
		b.Field(1).(*array.Int32Builder).Append(seq)
		rec := b.NewRecordBatch()
		defer rec.Release()
		tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
		defer tbl.Release()
		return a.Tx.AppendTable(ctx, tbl, 1, a.Summary)
	}
}

func countRows(t *testing.T, l *lakehouse.Lakehouse, ident table.Identifier) int64 {
	t.Helper()
	tbl, err := l.Catalog.LoadTable(context.Background(), ident)
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	return at.NumRows()
}

// TestCommitConcurrentWriters: several writers create the table at once and
// commit concurrently; conflicts are retried until every commit lands once.
func TestCommitConcurrentWriters(t *testing.T) {
	l := openLake(t)
	ident, spec := testTable(t, l)
	const writers, commits = 4, 5
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	ids := make(chan string, writers*commits)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range commits {
				res, err := l.Commit(context.Background(), ident, appendRow(int32(w), int32(c)), lakehouse.CommitOptions{
					Create:      spec,
					MaxAttempts: 30,
					Summary:     map[string]string{"weir.test.writer": fmt.Sprint(w)},
					OnRetry:     func(int, bool, error) { conflicts.Add(1) },
				})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Snapshot == nil || res.Snapshot.Summary.Properties[lakehouse.SummaryCommitID] != res.CommitID {
					t.Errorf("result snapshot %v does not carry commit id %s", res.Snapshot, res.CommitID)
				}
				ids <- res.CommitID
			}
		}()
	}
	wg.Wait()
	close(ids)
	if t.Failed() {
		return
	}
	tbl, err := l.Catalog.LoadTable(context.Background(), ident)
	if err != nil {
		t.Fatal(err)
	}
	for id := range ids {
		n := 0
		for snap := range lakehouse.Ancestors(tbl) {
			if snap.Summary.Properties[lakehouse.SummaryCommitID] == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("commit %s appears in %d snapshots, want 1", id, n)
		}
	}
	if got := countRows(t, l, ident); got != writers*commits {
		t.Errorf("%d rows, want %d", got, writers*commits)
	}
	t.Logf("%d commits by %d writers, %d retried attempts", writers*commits, writers, conflicts.Load())
}

// lossyCatalog is the real catalog with one injected fault: the response to
// a successful CommitTable is lost (as with a timeout or dropped connection
// after the server committed). Tables it loads commit through it.
type lossyCatalog struct {
	*sqlcat.Catalog
	lose atomic.Int64 // commits whose response is lost
	fs   table.FSysF
}

func (c *lossyCatalog) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	tbl, err := c.Catalog.LoadTable(ctx, ident)
	if err != nil {
		return nil, err
	}
	c.fs = func(ctx context.Context) (icebergio.IO, error) { return tbl.FS(ctx) }
	return table.New(tbl.Identifier(), tbl.Metadata(), tbl.MetadataLocation(), c.fs, c), nil
}

func (c *lossyCatalog) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	meta, loc, err := c.Catalog.CommitTable(ctx, ident, reqs, updates)
	if err == nil && c.lose.Add(-1) >= 0 {
		return nil, "", errors.New("read tcp 127.0.0.1:15432: connection reset by peer")
	}
	return meta, loc, err
}

// TestCommitUnknownOutcome: the catalog commits but the answer is lost;
// Commit must find its commit id in the reloaded table instead of
// committing the same data again.
func TestCommitUnknownOutcome(t *testing.T) {
	l := openLake(t)
	ident, spec := testTable(t, l)
	if _, err := lakehouse.LoadOrCreate(context.Background(), l.Catalog, ident, spec); err != nil {
		t.Fatal(err)
	}
	lossy := &lossyCatalog{Catalog: l.Catalog}
	for i := range 3 {
		lossy.lose.Store(1)
		var retries []bool
		res, err := lakehouse.Commit(context.Background(), lossy, ident, appendRow(0, int32(i)), lakehouse.CommitOptions{
			OnRetry: func(_ int, conflict bool, _ error) { retries = append(retries, conflict) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Recovered || res.Attempts != 1 || len(retries) != 1 || retries[0] {
			t.Errorf("commit %d: recovered=%v attempts=%d retries=%v, want a recovered first attempt after one unknown outcome", i, res.Recovered, res.Attempts, retries)
		}
	}
	if got := countRows(t, l, ident); got != 3 {
		t.Errorf("%d rows, want 3 (a lost answer must not commit twice)", got)
	}
}

// TestCommitNothing: ErrNothingToCommit ends Commit without a snapshot.
func TestCommitNothing(t *testing.T) {
	l := openLake(t)
	ident, spec := testTable(t, l)
	res, err := l.Commit(context.Background(), ident, func(context.Context, *lakehouse.Attempt) error {
		return lakehouse.ErrNothingToCommit
	}, lakehouse.CommitOptions{Create: spec})
	if err != nil || res.Snapshot != nil {
		t.Fatalf("got %v, %v; want no snapshot and no error", res.Snapshot, err)
	}
	tbl, err := l.Catalog.LoadTable(context.Background(), ident)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.CurrentSnapshot() != nil {
		t.Error("table has a snapshot")
	}
}

// TestLoadOrCreateAddsColumns: a column added to the spec is added to the
// existing table without rewriting it.
func TestLoadOrCreateAddsColumns(t *testing.T) {
	l := openLake(t)
	ident, spec := testTable(t, l)
	if _, err := l.Commit(context.Background(), ident, appendRow(1, 1), lakehouse.CommitOptions{Create: spec}); err != nil {
		t.Fatal(err)
	}
	wider := *spec
	wider.Schema = iceberg.NewSchema(0, append(spec.Schema.Fields(),
		iceberg.NestedField{ID: 3, Name: "note", Type: iceberg.PrimitiveTypes.String})...)
	tbl, err := lakehouse.LoadOrCreate(context.Background(), l.Catalog, ident, &wider)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Schema().FindFieldByName("note"); !ok {
		t.Fatalf("column not added: %s", tbl.Schema())
	}
	if got := countRows(t, l, ident); got != 1 {
		t.Errorf("%d rows after evolution, want 1", got)
	}
}

// TestLoadOrCreateRelaxesRequired: a column the spec makes optional becomes
// optional in the existing table (and a new optional column is added), so
// rows with nulls in it can be appended; nothing else changes.
func TestLoadOrCreateRelaxesRequired(t *testing.T) {
	l := openLake(t)
	ident, spec := testTable(t, l)
	if _, err := l.Commit(context.Background(), ident, appendRow(1, 1), lakehouse.CommitOptions{Create: spec}); err != nil {
		t.Fatal(err)
	}
	relaxed := *spec
	relaxed.Schema = iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "writer", Type: iceberg.PrimitiveTypes.Int32, Required: true},
		iceberg.NestedField{ID: 2, Name: "seq", Type: iceberg.PrimitiveTypes.Int32},
		iceberg.NestedField{ID: 3, Name: "issue", Type: iceberg.PrimitiveTypes.String})
	tbl, err := lakehouse.LoadOrCreate(context.Background(), l.Catalog, ident, &relaxed)
	if err != nil {
		t.Fatal(err)
	}
	for name, required := range map[string]bool{"writer": true, "seq": false, "issue": false} {
		f, ok := tbl.Schema().FindFieldByName(name)
		if !ok || f.Required != required {
			t.Errorf("column %s: present %v, required %v; want required %v (%s)", name, ok, f.Required, required, tbl.Schema())
		}
	}
	// A second load finds nothing to change.
	again, err := lakehouse.LoadOrCreate(context.Background(), l.Catalog, ident, &relaxed)
	if err != nil {
		t.Fatal(err)
	}
	if again.Metadata().CurrentSchema().ID != tbl.Metadata().CurrentSchema().ID {
		t.Errorf("schema changed again: %d → %d", tbl.Metadata().CurrentSchema().ID, again.Metadata().CurrentSchema().ID)
	}
	if got := countRows(t, l, ident); got != 1 {
		t.Errorf("%d rows after evolution, want 1", got)
	}
}

// TestLoadOrCreateAddsProperties: a property added to the spec (a bloom
// filter, say) is set on the existing table; one the table already has
// keeps its value; a second load commits nothing.
func TestLoadOrCreateAddsProperties(t *testing.T) {
	l := openLake(t)
	ident, spec := testTable(t, l)
	if _, err := l.Commit(context.Background(), ident, appendRow(1, 1), lakehouse.CommitOptions{Create: spec}); err != nil {
		t.Fatal(err)
	}
	tbl, err := l.Catalog.LoadTable(context.Background(), ident)
	if err != nil {
		t.Fatal(err)
	}
	tx := tbl.NewTransaction()
	if err := tx.SetProperties(iceberg.Properties{"write.parquet.compression-level": "7"}); err != nil { // an operator's change
		t.Fatal(err)
	}
	if _, err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	more := *spec
	more.Properties = iceberg.Properties{table.PropertyFormatVersion: "2", "write.parquet.compression-level": "3",
		"write.parquet.bloom-filter-enabled.column.seq": "true"}
	for k, v := range spec.Properties {
		if _, ok := more.Properties[k]; !ok {
			more.Properties[k] = v
		}
	}
	got, err := lakehouse.LoadOrCreate(context.Background(), l.Catalog, ident, &more)
	if err != nil {
		t.Fatal(err)
	}
	props := got.Properties()
	if props["write.parquet.bloom-filter-enabled.column.seq"] != "true" || props["write.parquet.compression-level"] != "7" {
		t.Errorf("properties after load: %v; want the bloom filter added and compression-level 7 kept", props)
	}
	again, err := lakehouse.LoadOrCreate(context.Background(), l.Catalog, ident, &more)
	if err != nil {
		t.Fatal(err)
	}
	if again.MetadataLocation() != got.MetadataLocation() {
		t.Errorf("a second load committed again: %s → %s", got.MetadataLocation(), again.MetadataLocation())
	}
	if n := countRows(t, l, ident); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}
