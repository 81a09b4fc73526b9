package generate

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"weir/events"
)

// FileSink writes records as JSON lines, one object per record:
//
//	{"topic":"app.events","key":"u-000042","value":"{\"event_id\":...}"}
//
// value holds the payload as a JSON string when it is valid UTF-8;
// otherwise value is absent and value_b64 holds the payload in standard
// base64. key and key_b64 follow the same rule; a record without a key has
// neither. ReadRecords reads the format back.
type FileSink struct {
	w   *bufio.Writer
	buf []byte
}

// FileRecord is one line of the FileSink format.
type FileRecord struct {
	Topic    string  `json:"topic"`
	Key      *string `json:"key,omitempty"`
	KeyB64   []byte  `json:"key_b64,omitempty"`
	Value    *string `json:"value,omitempty"`
	ValueB64 []byte  `json:"value_b64,omitempty"`
}

// KeyBytes returns the record's key (nil if it has none).
func (r *FileRecord) KeyBytes() []byte {
	if r.Key != nil {
		return []byte(*r.Key)
	}
	return r.KeyB64
}

// Payload returns the record's value bytes.
func (r *FileRecord) Payload() []byte {
	if r.Value != nil {
		return []byte(*r.Value)
	}
	return r.ValueB64
}

// NewFileSink writes to w; call Flush at the end.
func NewFileSink(w io.Writer) *FileSink {
	return &FileSink{w: bufio.NewWriterSize(w, 1<<20)}
}

// Produce writes one record line.
func (s *FileSink) Produce(_ context.Context, topic string, key, value []byte) error {
	b := append(s.buf[:0], `{"topic":`...)
	b = events.AppendJSONString(b, topic)
	b = appendField(b, "key", key)
	b = appendField(b, "value", value)
	b = append(b, '}', '\n')
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// appendField writes ,"name":"text" or ,"name_b64":"base64" (nothing when empty).
func appendField(b []byte, name string, v []byte) []byte {
	switch {
	case len(v) == 0 && name == "key":
		return b
	case utf8.Valid(v):
		b = append(append(append(b, `,"`...), name...), `":`...)
		return events.AppendJSONString(b, string(v))
	default:
		b = append(append(append(b, `,"`...), name...), `_b64":"`...)
		b = base64.StdEncoding.AppendEncode(b, v)
		return append(b, '"')
	}
}

// Flush writes buffered lines through.
func (s *FileSink) Flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("flush records: %w", err)
	}
	return nil
}

// ReadRecords calls fn for each record of a FileSink stream, in order.
func ReadRecords(r io.Reader, fn func(FileRecord) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	for n := 1; ; n++ {
		var rec FileRecord
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read record %d: %w", n, err)
		}
		if rec.Topic == "" {
			return fmt.Errorf("read record %d: no topic", n)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// PrefixSink prepends Prefix to every topic name, so benchmarks and tests
// can write to their own topics next to a running pipeline.
type PrefixSink struct {
	Sink   Sink
	Prefix string
}

// Produce forwards the record to Prefix+topic.
func (s PrefixSink) Produce(ctx context.Context, topic string, key, value []byte) error {
	return s.Sink.Produce(ctx, s.Prefix+topic, key, value)
}
