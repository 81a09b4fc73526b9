package stream

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

func TestToRow(t *testing.T) {
	ingested := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	kafkaTS := ingested.Add(-time.Second)
	for _, tc := range []struct {
		name       string
		msg        Message
		wantDead   bool
		wantReason string
		wantHdrs   string
		wantEvent  bool
	}{
		{name: "json event", msg: Message{Topic: "app.events", Value: []byte(`{"ts":"2026-03-01T11:59:58Z","type":"buy"}`)}, wantEvent: true},
		{name: "not json", msg: Message{Topic: "app.events", Value: []byte{0xff, 0x00, '{'}}},
		{name: "tombstone", msg: Message{Topic: "dims.items", Key: []byte("item-1")}},
		{name: "headers", msg: Message{Topic: "app.logs", Value: []byte("x"), Headers: []Header{{Key: "trace", Value: []byte(`a"b`)}, {Key: "empty"}}},
			wantHdrs: `[{"key":"trace","value":"a\"b"},{"key":"empty","value":null}]`},
		{name: "binary header", msg: Message{Topic: "app.logs", Value: []byte("x"), Headers: []Header{{Key: "k", Value: []byte{0xff}}}},
			wantDead: true, wantReason: ReasonHeadersNotUTF8, wantHdrs: `[{"key_base64":"aw==","value_base64":"/w=="}]`},
		{name: "oversized", msg: Message{Topic: "web.access", Value: make([]byte, 2000)}, wantDead: true, wantReason: "oversized: 2000 bytes > 1024"},
		{name: "oversized by key", msg: Message{Topic: "web.access", Key: make([]byte, 1000), Value: make([]byte, 100)}, wantDead: true, wantReason: "oversized: 1100 bytes > 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.msg.Offset = 42
			tc.msg.Timestamp = kafkaTS
			r, dead := toRow(&tc.msg, ingested, 1024)
			if dead != tc.wantDead || r.reason != tc.wantReason {
				t.Fatalf("dead=%v reason=%q, want %v %q", dead, r.reason, tc.wantDead, tc.wantReason)
			}
			if r.headers != tc.wantHdrs || r.hasHeaders != (tc.wantHdrs != "") {
				t.Errorf("headers = %q (%v), want %q", r.headers, r.hasHeaders, tc.wantHdrs)
			}
			if (r.eventTS != noTime) != tc.wantEvent {
				t.Errorf("event time present = %v, want %v", r.eventTS != noTime, tc.wantEvent)
			}
			if r.offset != 42 || r.kafkaTS != kafkaTS.UnixMicro() || r.ingestedAt != ingested.UnixMicro() {
				t.Errorf("coordinates/times not kept: %+v", r)
			}
			if tc.msg.Value == nil && r.value != nil {
				t.Errorf("tombstone value became non-nil")
			}
		})
	}
}

func TestOversizedDeadLetterIsTruncated(t *testing.T) {
	m := Message{Topic: "web.access", Value: make([]byte, 10<<20)}
	r, dead := toRow(&m, time.Now(), 4<<20)
	if !dead || len(r.value) != deadLetterKeep {
		t.Fatalf("dead=%v len(value)=%d, want true %d", dead, len(r.value), deadLetterKeep)
	}
}

func TestBatchAddDrop(t *testing.T) {
	b := newBatch()
	now := time.Now()
	a := lakehouse.TopicPartition{Topic: "app.events", Partition: 0}
	d := lakehouse.TopicPartition{Topic: "dims.items", Partition: 0}
	b.add(a, 10, row{offset: 10, value: []byte("abc")}, false, now)
	b.add(a, 11, row{offset: 12, value: []byte("abcd")}, true, now) // gap: compaction or markers
	b.add(d, fromBeginning, row{offset: 3}, false, now)
	if p := b.parts[a]; p.start != 10 || p.next != 13 || len(p.rows) != 1 || len(p.dead) != 1 {
		t.Errorf("partition buffer = %+v", p)
	}
	if p := b.parts[d]; p.start != fromBeginning || p.next != 4 {
		t.Errorf("dims buffer = %+v", p)
	}
	if got := b.tables(); len(got) != 2 || len(got[lakehouse.BronzeAppEvents]) != 1 || len(got[lakehouse.BronzeDims]) != 1 {
		t.Errorf("tables = %v", got)
	}
	if !b.hasDead() {
		t.Error("hasDead = false")
	}
	b.drop(a)
	if b.records != 1 || b.bytes != (&row{offset: 3}).size() || b.hasDead() {
		t.Errorf("after drop: records=%d bytes=%d", b.records, b.bytes)
	}
}

func TestSelectionRecordBatches(t *testing.T) {
	sc, err := table.SchemaToArrowSchema(lakehouse.DeadLetterSchema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	tp0 := lakehouse.TopicPartition{Topic: "app.events", Partition: 0}
	tp1 := lakehouse.TopicPartition{Topic: "app.events", Partition: 1}
	sel := &selection{
		parts: []lakehouse.TopicPartition{tp0, tp1},
		rows: map[lakehouse.TopicPartition][]row{
			tp0: {{offset: 5, kafkaTS: 1, value: []byte("v"), ingestedAt: 2, eventTS: noTime, reason: "r"}},
			tp1: {{offset: 7, kafkaTS: noTime, key: []byte("k"), ingestedAt: 2, eventTS: 3, headers: "[]", hasHeaders: true, reason: "r"}},
		},
	}
	var got []arrow.RecordBatch
	for rec, err := range sel.recordBatches(sc) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	if len(got) != 1 || got[0].NumRows() != 2 {
		t.Fatalf("got %d batches", len(got))
	}
	rec := got[0]
	defer rec.Release()
	col := func(name string) arrow.Array { return rec.Column(rec.Schema().FieldIndices(name)[0]) }
	if p := col(lakehouse.ColPartition).(*array.Int32); p.Value(0) != 0 || p.Value(1) != 1 {
		t.Errorf("partition order wrong")
	}
	if k := col(lakehouse.ColKey); !k.IsNull(0) || k.IsNull(1) {
		t.Errorf("key nulls wrong")
	}
	if ts := col(lakehouse.ColKafkaTS); ts.IsNull(0) || !ts.IsNull(1) {
		t.Errorf("kafka_ts nulls wrong")
	}
	if h := col(lakehouse.ColHeaders); !h.IsNull(0) || h.IsNull(1) {
		t.Errorf("headers nulls wrong")
	}
	if r := col(lakehouse.ColReason).(*array.String); r.Value(0) != "r" {
		t.Errorf("reason = %q", r.Value(0))
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig().WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		field string
		mut   func(*Config)
	}{
		{"topics", func(c *Config) { c.Topics = nil }},
		{"group", func(c *Config) { c.Group = "" }},
		{"commit_interval", func(c *Config) { c.CommitInterval = time.Millisecond }},
		{"commit_bytes", func(c *Config) { c.CommitBytes = 10 }},
		{"memory_budget", func(c *Config) { c.MemoryBudget = c.CommitBytes }},
		{"max_record_bytes", func(c *Config) { c.MaxRecordBytes = 1 }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			c := good
			tc.mut(&c)
			err := c.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
