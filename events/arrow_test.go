package events

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestAppendRows(t *testing.T) {
	a, err := ParseAccessLog([]byte(clfLine))
	if err != nil {
		t.Fatal(err)
	}
	ev := sampleEvent()
	l := AppLog{TS: t0, Level: LevelInfo, Service: "s", Message: "m"}
	m := Metric{TS: t0, Host: "h"}
	di := DimItem{Item: "i", Category: "c"}
	dp := DimProvider{Provider: "p", Name: "n", Kind: KindCard}
	tests := []struct {
		name   string
		schema *arrow.Schema
		append func(*array.RecordBuilder)
	}{
		{"access", AccessLogSchema(), func(b *array.RecordBuilder) { AppendAccessLogRow(b, &a) }},
		{"event", AppEventSchema(), func(b *array.RecordBuilder) { AppendAppEventRow(b, &ev) }},
		{"log", AppLogSchema(), func(b *array.RecordBuilder) { AppendAppLogRow(b, &l) }},
		{"metric", MetricSchema(), func(b *array.RecordBuilder) { AppendMetricRow(b, &m) }},
		{"item", DimItemSchema(), func(b *array.RecordBuilder) { AppendDimItemRow(b, &di) }},
		{"provider", DimProviderSchema(), func(b *array.RecordBuilder) { AppendDimProviderRow(b, &dp) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := array.NewRecordBuilder(memory.DefaultAllocator, tt.schema)
			defer b.Release()
			tt.append(b)
			tt.append(b)
			rec := b.NewRecordBatch()
			defer rec.Release()
			if rec.NumRows() != 2 {
				t.Fatalf("rows = %d", rec.NumRows())
			}
			for i, col := range rec.Columns() {
				if col.Len() != 2 {
					t.Fatalf("column %s has %d values", tt.schema.Field(i).Name, col.Len())
				}
				if !tt.schema.Field(i).Nullable && col.NullN() > 0 {
					t.Fatalf("required column %s has nulls", tt.schema.Field(i).Name)
				}
			}
			if tt.schema.Field(0).Name != "event_ts" && tt.name != "event" && tt.name != "item" && tt.name != "provider" {
				t.Errorf("first column %s, want event_ts", tt.schema.Field(0).Name)
			}
		})
	}
}
