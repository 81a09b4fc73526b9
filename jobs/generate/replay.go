package generate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"weir/events"
)

// MaxReplayLine is the longest line Replay produces whole; longer lines are
// cut to it (and then count as bad) so the broker accepts them.
const MaxReplayLine = 900 << 10

// ReplayStats counts one replay. Every line is produced; Bad counts those the
// topic's parser rejects, by error class.
type ReplayStats struct {
	Lines    int64            `json:"lines"`
	Produced int64            `json:"produced"`
	Bad      int64            `json:"bad"`
	Cut      int64            `json:"cut"`
	BadBy    map[string]int64 `json:"bad_by_class"`
}

// Replay produces each line of r (without its line ending) as one record of
// topic, unchanged: timestamps stay what the log says. format is the source
// topic whose parser judges the lines (usually topic itself; "" judges by
// topic). Lines in web.access format are keyed by their first field (the
// client address); others get no key. Lines the parser rejects are produced
// too, and counted.
func Replay(ctx context.Context, r io.Reader, topic, format string, sink Sink) (ReplayStats, error) {
	if format == "" {
		format = topic
	}
	st := ReplayStats{BadBy: map[string]int64{}}
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Keep reading the rest of the line, holding no more of it than
			// is produced: a file with no line ends cannot exhaust memory.
			if room := MaxReplayLine + 1 - len(long); room > 0 {
				long = append(long, line[:min(room, len(line))]...)
			}
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, fmt.Errorf("read line %d: %w", st.Lines+1, err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return st, cerr
		}
		st.Lines++
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > MaxReplayLine {
			line = line[:MaxReplayLine]
			st.Cut++
		}
		if perr := parseAs(format, line); perr != nil {
			st.Bad++
			st.BadBy[errorClass(perr)]++
		}
		var key []byte
		if format == events.TopicWebAccess {
			if i := bytes.IndexByte(line, ' '); i > 0 {
				key = line[:i]
			}
		}
		if perr := sink.Produce(ctx, topic, key, line); perr != nil {
			return st, fmt.Errorf("produce line %d: %w", st.Lines, perr)
		}
		st.Produced++
		if err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, fmt.Errorf("read line %d: %w", st.Lines+1, err)
		}
	}
}

// ReplayRecords produces every record of a FileSink stream (weir generate
// --output) to its topic.
func ReplayRecords(ctx context.Context, r io.Reader, sink Sink) (int64, error) {
	var n int64
	err := ReadRecords(r, func(rec FileRecord) error {
		if err := sink.Produce(ctx, rec.Topic, rec.KeyBytes(), rec.Payload()); err != nil {
			return fmt.Errorf("produce record %d: %w", n+1, err)
		}
		n++
		return nil
	})
	return n, err
}

// parseAs parses v with topic's parser; unknown topics accept everything.
func parseAs(topic string, v []byte) error {
	var err error
	switch topic {
	case events.TopicWebAccess:
		_, err = events.ParseAccessLog(v)
	case events.TopicAppEvents:
		_, err = events.ParseAppEvent(v)
	case events.TopicAppLogs:
		_, err = events.ParseAppLog(v)
	case events.TopicMetrics:
		_, err = events.ParseMetric(v)
	case events.TopicDimItems:
		_, err = events.ParseDimItem(v)
	case events.TopicDimProviders:
		_, err = events.ParseDimProvider(v)
	}
	return err
}

func errorClass(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{{events.ErrEmpty, "empty"}, {events.ErrNotUTF8, "not_utf8"}, {events.ErrSyntax, "syntax"}, {events.ErrMissing, "missing"}, {events.ErrInvalid, "invalid"}} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "other"
}
