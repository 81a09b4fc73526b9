package silver

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/events"
	"weir/lakehouse"
)

// dimLookup enriches app events with the dimensions as of the run.
type dimLookup struct {
	items     map[string]events.DimItem
	providers map[string]events.DimProvider
}

func (d *dimLookup) item(id string) events.DimItem {
	if d == nil || id == "" {
		return events.DimItem{}
	}
	return d.items[id]
}

func (d *dimLookup) provider(id string) events.DimProvider {
	if d == nil || id == "" {
		return events.DimProvider{}
	}
	return d.providers[id]
}

// dimRow is one dimension record with where it came from.
type dimRow struct {
	item      *events.DimItem
	provider  *events.DimProvider
	partition int32
	offset    int64
	updatedAt int64
}

// dimState is the content of both dimension tables, by key.
type dimState struct {
	items     map[string]dimRow
	providers map[string]dimRow
}

// dimChanges are the dimension records of one chunk in Kafka order; a
// nil item/provider with deleteKey set is a tombstone.
type dimChange struct {
	topic     string
	key       string
	row       dimRow
	tombstone bool
}

// addDim parses one bronze.dims record. Tombstones (null or empty value)
// delete their key; anything else that does not parse is a reject.
func addDim(changes *[]dimChange, r *bronzeRow) error {
	c := dimChange{topic: r.topic, key: string(r.key),
		row: dimRow{partition: r.partition, offset: r.offset, updatedAt: r.kafkaTS}}
	if r.nullValue || len(r.value) == 0 {
		c.tombstone = true
		*changes = append(*changes, c)
		return nil
	}
	switch r.topic {
	case events.TopicDimItems:
		d, err := events.ParseDimItem(r.value)
		if err != nil {
			return err
		}
		c.key, c.row.item = d.Item, &d
	case events.TopicDimProviders:
		d, err := events.ParseDimProvider(r.value)
		if err != nil {
			return err
		}
		c.key, c.row.provider = d.Provider, &d
	default:
		return &events.ParseError{Reason: "unknown dimension topic " + r.topic, Offset: -1, Err: events.ErrInvalid}
	}
	*changes = append(*changes, c)
	return nil
}

// apply folds changes (any order) into rows of one dimension topic; the
// record with the highest (partition, offset) of a key wins.
func apply(rows map[string]dimRow, changes []dimChange, topic string) {
	slices.SortFunc(changes, func(a, b dimChange) int {
		if a.row.partition != b.row.partition {
			return int(a.row.partition - b.row.partition)
		}
		return int(a.row.offset - b.row.offset)
	})
	for _, c := range changes {
		if c.topic != topic {
			continue
		}
		if c.tombstone {
			delete(rows, c.key)
			continue
		}
		rows[c.key] = c.row
	}
}

// readDims loads both dimension tables (missing tables are empty).
func readDims(ctx context.Context, cat catalog.Catalog, ns Namespaces) (dimState, error) {
	st := dimState{items: map[string]dimRow{}, providers: map[string]dimRow{}}
	for _, name := range []string{lakehouse.SilverDimItems, lakehouse.SilverDimProviders} {
		tbl, err := cat.LoadTable(ctx, lakehouse.Ident(ns.Table(name)))
		if errors.Is(err, catalog.ErrNoSuchTable) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("load %s: %w", ns.Table(name), err)
		}
		if err := readDimTable(ctx, tbl, name, st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func readDimTable(ctx context.Context, tbl *table.Table, name string, st dimState) error {
	if tbl.CurrentSnapshot() == nil {
		return nil
	}
	_, recs, err := tbl.Scan().ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scan %s: %w", name, err)
	}
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		col := func(n string) arrow.Array {
			idx := rec.Schema().FieldIndices(n)
			if len(idx) == 0 {
				return nil
			}
			return rec.Column(idx[0])
		}
		str := func(n string, i int) string {
			if c, ok := col(n).(*array.String); ok && c.IsValid(i) {
				return c.Value(i)
			}
			return ""
		}
		part := col(lakehouse.ColSourcePartition).(*array.Int32)
		off := col(lakehouse.ColSourceOffset).(*array.Int64)
		upd, _ := col(lakehouse.ColUpdatedAt).(*array.Timestamp)
		for i := 0; i < int(rec.NumRows()); i++ {
			row := dimRow{partition: part.Value(i), offset: off.Value(i), updatedAt: noTime}
			if upd != nil && upd.IsValid(i) {
				row.updatedAt = int64(upd.Value(i))
			}
			if name == lakehouse.SilverDimItems {
				d := events.DimItem{Item: str("item", i), Name: str("name", i), Category: str("category", i)}
				if p, ok := col("price").(*array.Float64); ok {
					d.Price = p.Value(i)
				}
				row.item = &d
				st.items[d.Item] = row
			} else {
				d := events.DimProvider{Provider: str("provider", i), Name: str("name", i), Kind: str("kind", i)}
				row.provider = &d
				st.providers[d.Provider] = row
			}
		}
		rec.Release()
	}
	return nil
}

// lookup turns dimension state into the enrichment maps.
func (st dimState) lookup() *dimLookup {
	d := &dimLookup{items: map[string]events.DimItem{}, providers: map[string]events.DimProvider{}}
	for k, r := range st.items {
		d.items[k] = *r.item
	}
	for k, r := range st.providers {
		d.providers[k] = *r.provider
	}
	return d
}

// dimBatches yields the full content of one dimension table, by key.
func dimBatches(sc *arrow.Schema, rows map[string]dimRow, items bool) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		keys := make([]string, 0, len(rows))
		for k := range rows {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		lead := len(events.DimProviderFields())
		if items {
			lead = len(events.DimItemFields())
		}
		for _, k := range keys {
			r := rows[k]
			if items {
				events.AppendDimItemRow(b, r.item)
			} else {
				events.AppendDimProviderRow(b, r.provider)
			}
			b.Field(lead).(*array.Int32Builder).Append(r.partition)
			b.Field(lead + 1).(*array.Int64Builder).Append(r.offset)
			appendTS(b.Field(lead+2).(*array.TimestampBuilder), r.updatedAt)
		}
		yield(b.NewRecordBatch(), nil)
	}
}

func microTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// arrowReader wraps record batches as a RecordReader (it takes ownership).
func arrowReader(sc *arrow.Schema, recs []arrow.RecordBatch) (array.RecordReader, error) {
	rdr, err := array.NewRecordReader(sc, recs)
	for _, r := range recs {
		r.Release()
	}
	if err != nil {
		return nil, fmt.Errorf("dimension records: %w", err)
	}
	return rdr, nil
}
