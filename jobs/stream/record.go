package stream

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"weir/events"
	"weir/lakehouse"
)

// Dead-letter reasons.
const (
	ReasonOversized      = "oversized"
	ReasonHeadersNotUTF8 = "headers_not_utf8"
	// ReasonRetentionGap marks the one dead letter that records a hole:
	// offsets Kafka deleted before the job read them. Its offset is the
	// hole's last; its value names the range.
	ReasonRetentionGap = "retention_gap"
)

// What the job does on a retention gap (Config.OnRetentionGap).
const (
	GapFail   = "fail"
	GapRecord = "record"
)

// RetentionGap is a hole in a partition: offsets [From, To) were deleted
// by Kafka (retention, or records deleted by an operator) before the job
// read them. As an error it stops the job without committing past From.
type RetentionGap struct {
	Topic     string
	Partition int32
	From, To  int64
}

func (g *RetentionGap) Error() string {
	return fmt.Sprintf("retention gap in %s partition %d: Kafka no longer has offsets [%d, %d) (%d records deleted before the stream job read them); "+
		"the table stays at offset %d. Restart with --on-retention-gap=%s to record the hole in the dead letters and go on",
		g.Topic, g.Partition, g.From, g.To, g.To-g.From, g.From, GapRecord)
}

// deadLetter is the row that records the hole: at its last offset, so the
// partition's tables move past it exactly once.
func (g *RetentionGap) deadLetter(now time.Time) row {
	return row{
		offset:     g.To - 1,
		kafkaTS:    noTime,
		value:      fmt.Appendf(nil, `{"from_offset":%d,"to_offset":%d,"records":%d}`, g.From, g.To, g.To-g.From),
		ingestedAt: now.UnixMicro(),
		eventTS:    noTime,
		reason:     fmt.Sprintf("%s: offsets [%d, %d) deleted by Kafka before they were read", ReasonRetentionGap, g.From, g.To),
	}
}

// deadLetterKeep is how much of an oversized key or value a dead letter keeps.
const deadLetterKeep = 64 << 10

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is a consumed Kafka record, independent of the client library.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time // zero when the record has none
	Key       []byte
	Value     []byte
	Headers   []Header
}

// row is one bronze row of a partition buffer (topic and partition are the
// buffer's).
type row struct {
	offset     int64
	kafkaTS    int64 // µs since epoch; noTime when absent
	key        []byte
	value      []byte
	headers    string
	hasHeaders bool
	ingestedAt int64 // µs
	eventTS    int64 // µs; noTime when absent
	reason     string
}

const noTime = int64(-1 << 63)

// size is what a row costs in memory, for the budget.
func (r *row) size() int64 {
	return int64(len(r.key)+len(r.value)+len(r.headers)+len(r.reason)) + 112
}

// toRow turns a message into its bronze row, or into a dead-letter row
// (dead=true) when it cannot be stored as-is.
func toRow(m *Message, ingestedAt time.Time, maxRecordBytes int) (r row, dead bool) {
	r = row{
		offset:     m.Offset,
		kafkaTS:    noTime,
		key:        m.Key,
		value:      m.Value,
		ingestedAt: ingestedAt.UnixMicro(),
		eventTS:    noTime,
	}
	if !m.Timestamp.IsZero() {
		r.kafkaTS = m.Timestamp.UnixMicro()
	}
	if size := len(m.Key) + len(m.Value); size > maxRecordBytes {
		r.reason = fmt.Sprintf("%s: %d bytes > %d", ReasonOversized, size, maxRecordBytes)
		r.key = truncate(m.Key, deadLetterKeep)
		r.value = truncate(m.Value, deadLetterKeep)
		r.headers, r.hasHeaders = rawHeadersJSON(m.Headers)
		return r, true
	}
	if len(m.Headers) > 0 {
		if !headersUTF8(m.Headers) {
			r.reason = ReasonHeadersNotUTF8
			r.headers, r.hasHeaders = rawHeadersJSON(m.Headers)
			return r, true
		}
		r.headers, r.hasHeaders = headersJSON(m.Headers)
	}
	if ts, ok := events.BestEffortEventTime(m.Topic, m.Value); ok {
		r.eventTS = ts.UnixMicro()
	}
	return r, false
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n:n]
	}
	return b
}

func headersUTF8(hs []Header) bool {
	for _, h := range hs {
		if !utf8.ValidString(h.Key) || !utf8.Valid(h.Value) {
			return false
		}
	}
	return true
}

type jsonHeader struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

// headersJSON encodes UTF-8 headers as [{"key":..,"value":..}] (value null
// for a nil header value); an array keeps order and repeated keys.
func headersJSON(hs []Header) (string, bool) {
	if len(hs) == 0 {
		return "", false
	}
	out := make([]jsonHeader, len(hs))
	for i, h := range hs {
		out[i].Key = h.Key
		if h.Value != nil {
			v := string(h.Value)
			out[i].Value = &v
		}
	}
	b, _ := json.Marshal(out) // strings and pointers only: cannot fail
	return string(b), true
}

type rawHeader struct {
	KeyBase64   string  `json:"key_base64"`
	ValueBase64 *string `json:"value_base64"`
}

// rawHeadersJSON encodes headers of any bytes, base64, for dead letters.
func rawHeadersJSON(hs []Header) (string, bool) {
	if len(hs) == 0 {
		return "", false
	}
	out := make([]rawHeader, len(hs))
	for i, h := range hs {
		out[i].KeyBase64 = base64.StdEncoding.EncodeToString([]byte(h.Key))
		if h.Value != nil {
			v := base64.StdEncoding.EncodeToString(h.Value)
			out[i].ValueBase64 = &v
		}
	}
	b, _ := json.Marshal(out)
	return string(b), true
}

// partBuf buffers the rows of one partition between two flushes.
type partBuf struct {
	// start is the offset the batch began at for this partition: the
	// offset the consumer was positioned at, or fromBeginning.
	start int64
	// next is the last consumed offset + 1 (start before any record).
	next int64
	rows []row
	dead []row
}

// fromBeginning marks a partition positioned at the start of its log.
const fromBeginning = -1

// batch is what one flush commits.
type batch struct {
	parts   map[lakehouse.TopicPartition]*partBuf
	bytes   int64
	records int
	opened  time.Time
}

func newBatch() *batch {
	return &batch{parts: map[lakehouse.TopicPartition]*partBuf{}}
}

// add appends a consumed message. start is where the partition's
// consumption began when the batch has no buffer for it yet.
func (b *batch) add(tp lakehouse.TopicPartition, start int64, r row, dead bool, now time.Time) {
	p := b.parts[tp]
	if p == nil {
		p = &partBuf{start: start, next: start}
		b.parts[tp] = p
	}
	if b.records == 0 {
		b.opened = now
	}
	if dead {
		p.dead = append(p.dead, r)
	} else {
		p.rows = append(p.rows, r)
	}
	p.next = r.offset + 1
	b.records++
	b.bytes += r.size()
}

// drop forgets the buffered rows of tp (after it was revoked or re-seeked).
func (b *batch) drop(tp lakehouse.TopicPartition) {
	p := b.parts[tp]
	if p == nil {
		return
	}
	for i := range p.rows {
		b.bytes -= p.rows[i].size()
	}
	for i := range p.dead {
		b.bytes -= p.dead[i].size()
	}
	b.records -= len(p.rows) + len(p.dead)
	delete(b.parts, tp)
}

// tables groups the partitions of the batch by bronze table.
func (b *batch) tables() map[string]map[lakehouse.TopicPartition]*partBuf {
	out := map[string]map[lakehouse.TopicPartition]*partBuf{}
	for tp, p := range b.parts {
		name := lakehouse.BronzeTable(tp.Topic)
		if out[name] == nil {
			out[name] = map[lakehouse.TopicPartition]*partBuf{}
		}
		out[name][tp] = p
	}
	return out
}

func (b *batch) hasDead() bool {
	for _, p := range b.parts {
		if len(p.dead) > 0 {
			return true
		}
	}
	return false
}
