package events

import (
	"bytes"
	"time"
)

var tsKey = []byte(`"ts"`)

// BestEffortEventTime extracts the event time of a raw payload without fully
// parsing it, for the bronze event_time column: the bracketed time of a
// web.access line, the "ts" string of JSON topics. It reports false when the
// topic carries no time (dims) or none could be read; it never panics and
// never validates anything else.
func BestEffortEventTime(topic string, value []byte) (time.Time, bool) {
	switch topic {
	case TopicWebAccess:
		i := bytes.IndexByte(value, '[')
		if i < 0 || len(value)-i < clfTimeLen+2 || value[i+1+clfTimeLen] != ']' {
			return time.Time{}, false
		}
		return parseCLFTime(string(value[i+1 : i+1+clfTimeLen]))
	case TopicAppEvents, TopicAppLogs, TopicMetrics:
		rest := value
		for {
			i := bytes.Index(rest, tsKey)
			if i < 0 {
				return time.Time{}, false
			}
			rest = rest[i+len(tsKey):]
			j := 0
			for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\n' || rest[j] == '\r') {
				j++
			}
			if j >= len(rest) || rest[j] != ':' {
				continue // "ts" was a value or part of another string, not the key
			}
			j++
			for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\n' || rest[j] == '\r') {
				j++
			}
			if j >= len(rest) || rest[j] != '"' {
				return time.Time{}, false
			}
			end := bytes.IndexByte(rest[j+1:], '"')
			if end < 0 || end > 40 {
				return time.Time{}, false
			}
			return parseRFC3339(string(rest[j+1 : j+1+end]))
		}
	}
	return time.Time{}, false
}
