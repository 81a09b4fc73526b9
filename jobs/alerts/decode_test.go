package alerts

import (
	"testing"

	"weir/config"
	"weir/events"
)

// TestDecoderDeclaredFormat: with a format declared for web.access, the
// alert job reads the topic's lines (and a prefixed copy's) in it, as the
// silver job does: the same AccessLog, the rule fields from it, the
// variables without a field by name; a line in another format is invalid.
func TestDecoderDeclaredFormat(t *testing.T) {
	var cfg config.Config
	if err := config.Parse([]byte(`
access_log_formats:
  web.access:
    nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time'
`), &cfg); err != nil {
		t.Fatal(err)
	}
	const line = `192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /api/cart/items HTTP/1.1" 503 157 "-" "curl/8.5" 3.004 3.001, 0.002`
	const clf = `203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "-"`
	formats, err := cfg.AccessFormats()
	if err != nil {
		t.Fatal(err)
	}
	silverReads, err := formats.For(events.TopicWebAccess)([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "staging."} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			dec, err := NewDecoder(cfg, prefix)
			if err != nil {
				t.Fatal(err)
			}
			f, ts, err := dec.Decode(events.TopicWebAccess, []byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if !ts.Equal(silverReads.Time) {
				t.Errorf("event time %v, silver reads %v", ts, silverReads.Time)
			}
			for name, want := range map[string]string{"status_class": "5xx", "route": "cart", "request_time_ms": "3004", "upstream_response_time": "3.001, 0.002"} {
				if got, ok := f.Str(name); !ok || got != want {
					t.Errorf("%s = %q (%v), want %q", name, got, ok, want)
				}
			}
			if _, _, err := dec.Decode(events.TopicWebAccess, []byte(clf)); err == nil {
				t.Error("a line in the default format decoded with the declared one")
			}
		})
	}
	if _, _, err := Decode(events.TopicWebAccess, []byte(clf)); err != nil {
		t.Errorf("without declarations the default format: %v", err)
	}
}
