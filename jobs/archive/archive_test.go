package archive

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"weir/jobs/silver"
	"weir/lakehouse"
)

func TestCutoff(t *testing.T) {
	now := time.Date(2026, 3, 31, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		days int
		want time.Time
	}{
		{1, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{30, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			if got := Cutoff(now, tc.days); !got.Equal(tc.want) {
				t.Errorf("Cutoff(%d) = %v, want %v", tc.days, got, tc.want)
			}
		})
	}
}

func TestHotArchiveViewSQL(t *testing.T) {
	ns := silver.DefaultNamespaces()
	q := HotArchiveViewSQL(ns, lakehouse.SilverEvents)
	for _, want := range []string{"FROM silver.events\n", "FROM archive.events a", "h.event_id = a.event_id"} {
		if !strings.Contains(q, want) {
			t.Errorf("view SQL lacks %q:\n%s", want, q)
		}
	}
	q = HotArchiveViewSQL(ns, lakehouse.SilverLogs)
	if !strings.Contains(q, "h.source_offset = a.source_offset") {
		t.Errorf("logs view SQL does not join on coordinates:\n%s", q)
	}
}

// TestInSchema: rows of a hot table whose evolved column sits last are
// written in the archive twin's order; a column the hot rows lack is null.
func TestInSchema(t *testing.T) {
	mem := memory.DefaultAllocator
	hotSc := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String},
		{Name: "ingested_at", Type: arrow.PrimitiveTypes.Int64},
		{Name: "order_id", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, hotSc)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"e1", "e2"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{10, 20}, nil)
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"o1", ""}, []bool{true, false})
	rec := b.NewRecordBatch()
	defer rec.Release()

	archSc := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String},
		{Name: "order_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ingested_at", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	out, err := inSchema(rec, archSc)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if !out.Schema().Equal(archSc) {
		t.Fatalf("schema = %v", out.Schema())
	}
	if got := out.Column(1).(*array.String).Value(0); got != "o1" || out.Column(1).IsValid(1) {
		t.Errorf("order_id = %v", out.Column(1))
	}
	if out.Column(2).NullN() != 2 {
		t.Errorf("note (absent from the hot rows) = %v, want nulls", out.Column(2))
	}
	if got := out.Column(3).(*array.Int64).Value(1); got != 20 {
		t.Errorf("ingested_at[1] = %d", got)
	}

	required := arrow.NewSchema([]arrow.Field{{Name: "missing", Type: arrow.BinaryTypes.String}}, nil)
	if _, err := inSchema(rec, required); err == nil {
		t.Error("a required column the hot rows lack: no error")
	}
}
