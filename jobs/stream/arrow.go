package stream

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"weir/lakehouse"
)

// maxRowsPerRecordBatch bounds one Arrow record batch handed to the Parquet
// writer, so large flushes stream instead of doubling memory.
const maxRowsPerRecordBatch = 64 << 10

// selection is what a table commit writes: per partition, the rows at or
// above a floor, in topic, partition, offset order (the table sort order).
type selection struct {
	parts []lakehouse.TopicPartition
	rows  map[lakehouse.TopicPartition][]row
}

func (s *selection) count() int {
	n := 0
	for _, rs := range s.rows {
		n += len(rs)
	}
	return n
}

// recordBatches yields the selection as Arrow record batches of schema sc.
// Columns of sc that bronze does not know are written as nulls, so a column
// someone added to the table does not stop ingestion.
func (s *selection) recordBatches(sc *arrow.Schema) func(yield func(arrow.RecordBatch, error) bool) {
	return func(yield func(arrow.RecordBatch, error) bool) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		appenders, err := columnAppenders(b)
		if err != nil {
			yield(nil, err)
			return
		}
		n := 0
		flush := func() bool {
			if n == 0 {
				return true
			}
			rec := b.NewRecordBatch()
			n = 0
			return yield(rec, nil)
		}
		for _, tp := range s.parts {
			topic := tp.Topic
			for i := range s.rows[tp] {
				r := &s.rows[tp][i]
				for _, app := range appenders {
					app(topic, tp.Partition, r)
				}
				n++
				if n == maxRowsPerRecordBatch && !flush() {
					return
				}
			}
		}
		flush()
	}
}

type appender func(topic string, partition int32, r *row)

func columnAppenders(b *array.RecordBuilder) ([]appender, error) {
	sc := b.Schema()
	out := make([]appender, sc.NumFields())
	for i, f := range sc.Fields() {
		fb := b.Field(i)
		var app appender
		switch f.Name {
		case lakehouse.ColTopic:
			sb, ok := fb.(*array.StringBuilder)
			app = func(topic string, _ int32, _ *row) { sb.Append(topic) }
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
		case lakehouse.ColPartition:
			ib, ok := fb.(*array.Int32Builder)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
			app = func(_ string, p int32, _ *row) { ib.Append(p) }
		case lakehouse.ColOffset:
			ib, ok := fb.(*array.Int64Builder)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
			app = func(_ string, _ int32, r *row) { ib.Append(r.offset) }
		case lakehouse.ColKafkaTS, lakehouse.ColIngestedAt, lakehouse.ColEventTS:
			tb, ok := fb.(*array.TimestampBuilder)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
			get := map[string]func(*row) int64{
				lakehouse.ColKafkaTS:    func(r *row) int64 { return r.kafkaTS },
				lakehouse.ColIngestedAt: func(r *row) int64 { return r.ingestedAt },
				lakehouse.ColEventTS:    func(r *row) int64 { return r.eventTS },
			}[f.Name]
			app = func(_ string, _ int32, r *row) {
				if v := get(r); v != noTime {
					tb.Append(arrow.Timestamp(v))
				} else {
					tb.AppendNull()
				}
			}
		case lakehouse.ColKey, lakehouse.ColValue:
			bb, ok := fb.(*array.BinaryBuilder)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
			isKey := f.Name == lakehouse.ColKey
			app = func(_ string, _ int32, r *row) {
				v := r.value
				if isKey {
					v = r.key
				}
				if v == nil {
					bb.AppendNull()
				} else {
					bb.Append(v)
				}
			}
		case lakehouse.ColHeaders:
			sb, ok := fb.(*array.StringBuilder)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
			app = func(_ string, _ int32, r *row) {
				if r.hasHeaders {
					sb.Append(r.headers)
				} else {
					sb.AppendNull()
				}
			}
		case lakehouse.ColReason:
			sb, ok := fb.(*array.StringBuilder)
			if !ok {
				return nil, fmt.Errorf("column %s: unexpected arrow type %s", f.Name, f.Type)
			}
			app = func(_ string, _ int32, r *row) { sb.Append(r.reason) }
		default:
			if !f.Nullable {
				return nil, fmt.Errorf("column %s: required and unknown to bronze", f.Name)
			}
			app = func(string, int32, *row) { fb.AppendNull() }
		}
		out[i] = app
	}
	return out, nil
}
