package silver

import (
	"bytes"
	"errors"
	"iter"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"weir/events"
	"weir/lakehouse"
)

// errNull classes a bronze record without a value on an event topic.
var errNull = errors.New("null value")

// errFuture classes a record whose event time is too far after its
// ingestion (Config.MaxFuture).
var errFuture = errors.New("event time in the future")

// reject is one row of silver.rejects.
type reject struct {
	src        coords
	eventTS    int64
	reason     string
	class      string
	field      string
	key, value []byte
	nullKey    bool
	nullValue  bool
}

// rejectRows collects the rejects of one chunk.
type rejectRows struct {
	rows []reject
	at   int64 // rejected_at, microseconds
}

func (r *rejectRows) add(b *bronzeRow, err error) {
	rj := reject{
		src:     coords{topic: b.topic, partition: b.partition, offset: b.offset, kafkaTS: b.kafkaTS, ingestedAt: b.ingestedAt},
		eventTS: b.eventTS,
		reason:  err.Error(),
		class:   errorClass(err),
		key:     bytes.Clone(b.key), value: bytes.Clone(b.value),
		nullKey: b.key == nil, nullValue: b.nullValue,
	}
	var pe *events.ParseError
	if errors.As(err, &pe) {
		rj.field = pe.Field
	}
	r.rows = append(r.rows, rj)
}

func errorClass(err error) string {
	switch {
	case errors.Is(err, errNull):
		return lakehouse.RejectNull
	case errors.Is(err, errFuture):
		return lakehouse.RejectFuture
	case errors.Is(err, events.ErrEmpty):
		return lakehouse.RejectEmpty
	case errors.Is(err, events.ErrNotUTF8):
		return lakehouse.RejectNotUTF8
	case errors.Is(err, events.ErrMissing):
		return lakehouse.RejectMissing
	case errors.Is(err, events.ErrInvalid):
		return lakehouse.RejectInvalid
	default:
		return lakehouse.RejectSyntax
	}
}

// future counts the rejects of class future.
func (r *rejectRows) future() int64 {
	var n int64
	for i := range r.rows {
		if r.rows[i].class == lakehouse.RejectFuture {
			n++
		}
	}
	return n
}

func (r *rejectRows) batches(sc *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		slices.SortFunc(r.rows, func(a, b reject) int {
			if c := unixDay(microTime(a.src.ingestedAt)) - unixDay(microTime(b.src.ingestedAt)); c != 0 {
				return int(c)
			}
			return a.src.less(&b.src)
		})
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		for i := range r.rows {
			rj := &r.rows[i]
			b.Field(0).(*array.StringBuilder).Append(rj.src.topic)
			b.Field(1).(*array.Int32Builder).Append(rj.src.partition)
			b.Field(2).(*array.Int64Builder).Append(rj.src.offset)
			appendTS(b.Field(3).(*array.TimestampBuilder), rj.src.kafkaTS)
			appendTS(b.Field(4).(*array.TimestampBuilder), rj.src.ingestedAt)
			appendTS(b.Field(5).(*array.TimestampBuilder), rj.eventTS)
			b.Field(6).(*array.StringBuilder).Append(rj.reason)
			b.Field(7).(*array.StringBuilder).Append(rj.class)
			appendOptStr(b.Field(8), rj.field)
			appendBin(b.Field(9).(*array.BinaryBuilder), rj.key, rj.nullKey)
			appendBin(b.Field(10).(*array.BinaryBuilder), rj.value, rj.nullValue)
			b.Field(11).(*array.TimestampBuilder).Append(arrow.Timestamp(r.at))
			if (i+1)%maxBatchRows == 0 {
				if !yield(b.NewRecordBatch(), nil) {
					return
				}
			}
		}
		if len(r.rows)%maxBatchRows != 0 {
			yield(b.NewRecordBatch(), nil)
		}
	}
}

func appendBin(b *array.BinaryBuilder, v []byte, null bool) {
	if null {
		b.AppendNull()
		return
	}
	b.Append(v)
}
