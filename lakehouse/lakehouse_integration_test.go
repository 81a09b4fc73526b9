//go:build integration

package lakehouse_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/config"
	"weir/lakehouse"
	"weir/trino"
)

func open(t *testing.T) (*lakehouse.Lakehouse, *sql.DB) {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lh, err := lakehouse.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open lakehouse (is the stack up? make up): %v", err)
	}
	t.Cleanup(func() { lh.Close() })
	if err := lh.EnsureNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return lh, db
}

// TestIcebergGoToTrino writes a day-partitioned table with iceberg-go through
// the JDBC catalog onto MinIO, and reads the same rows and snapshot ids back
// through Trino; then creates a view through Trino and queries it.
func TestIcebergGoToTrino(t *testing.T) {
	lh, db := open(t)
	ctx := context.Background()
	name := fmt.Sprintf("it_roundtrip_%d", rand.Int64N(1e12))
	ident := table.Identifier{lakehouse.Gold, name}

	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
	)
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{3}, FieldID: 1000, Name: "ts_day", Transform: iceberg.DayTransform{}})
	tbl, err := lh.Catalog.CreateTable(ctx, ident, sc, catalog.WithPartitionSpec(&spec),
		catalog.WithLocation(lh.TableLocation(lakehouse.Gold, name)))
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { lh.Catalog.DropTable(context.Background(), ident) })

	// 3 days × 100 rows, written in two commits.
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ids []int64
	var snapshots []int64
	for commit := 0; commit < 2; commit++ {
		arrSchema, err := table.SchemaToArrowSchema(sc, nil, true, false)
		if err != nil {
			t.Fatal(err)
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrSchema)
		for i := 0; i < 150; i++ {
			id := int64(commit*150 + i)
			ids = append(ids, id)
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row-%d", id))
			ts := base.Add(time.Duration(id%3) * 24 * time.Hour).Add(time.Duration(id) * time.Second)
			b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
		}
		rec := b.NewRecordBatch()
		rdr, _ := array.NewRecordReader(arrSchema, []arrow.RecordBatch{rec})
		tx := tbl.NewTransaction()
		if err := tx.Append(ctx, rdr, iceberg.Properties{"weir.commit-id": fmt.Sprintf("it-%d", commit)}); err != nil {
			t.Fatalf("append: %v", err)
		}
		if tbl, err = tx.Commit(ctx); err != nil {
			t.Fatalf("commit: %v", err)
		}
		snapshots = append(snapshots, tbl.CurrentSnapshot().SnapshotID)
	}

	q := fmt.Sprintf(`SELECT id FROM iceberg.gold.%s ORDER BY id`, name)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("trino select: %v", err)
	}
	var got []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("trino read %d rows, iceberg-go wrote %d (or different ids)", len(got), len(ids))
	}

	var parts int
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM iceberg.gold."%s$partitions"`, name)).Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if parts != 3 {
		t.Errorf("partitions = %d, want 3 days", parts)
	}

	rows, err = db.QueryContext(ctx, fmt.Sprintf(`SELECT snapshot_id, summary['weir.commit-id'] FROM iceberg.gold."%s$snapshots" ORDER BY committed_at`, name))
	if err != nil {
		t.Fatal(err)
	}
	var trinoSnaps []int64
	for rows.Next() {
		var id int64
		var commitID sql.NullString
		if err := rows.Scan(&id, &commitID); err != nil {
			t.Fatal(err)
		}
		if !commitID.Valid {
			t.Errorf("snapshot %d has no weir.commit-id in its summary", id)
		}
		trinoSnaps = append(trinoSnaps, id)
	}
	if !slices.Equal(trinoSnaps, snapshots) {
		t.Fatalf("trino $snapshots %v, iceberg-go committed %v", trinoSnaps, snapshots)
	}

	view := name + "_v"
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE VIEW iceberg.gold.%s AS SELECT date(ts) AS day, count(*) AS n FROM iceberg.gold.%s GROUP BY 1`, view, name)); err != nil {
		t.Fatalf("create view through trino: %v", err)
	}
	t.Cleanup(func() { db.ExecContext(context.Background(), "DROP VIEW IF EXISTS iceberg.gold."+view) })
	var listed int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM iceberg.information_schema.views WHERE table_schema = 'gold' AND table_name = ?`, view).Scan(&listed); err != nil {
		t.Fatal(err)
	}
	if listed != 1 {
		t.Fatalf("view %s not listed in information_schema.views", view)
	}
	var days, total int
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*), sum(n) FROM iceberg.gold.%s`, view)).Scan(&days, &total); err != nil {
		t.Fatal(err)
	}
	if days != 3 || total != len(ids) {
		t.Fatalf("view: %d days, %d rows; want 3, %d", days, total, len(ids))
	}
	// The view is in the shared JDBC catalog, so iceberg-go sees it too.
	found := false
	for v, err := range lh.Catalog.ListViews(ctx, table.Identifier{lakehouse.Gold}) {
		if err != nil {
			t.Fatal(err)
		}
		if v[len(v)-1] == view {
			found = true
		}
	}
	if !found {
		t.Errorf("iceberg-go does not list view %s", view)
	}
}
