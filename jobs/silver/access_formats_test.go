package silver

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"weir/config"
	"weir/events"
	"weir/lakehouse"
)

// TestDeclaredAccessFormat: with an nginx "main" format declared for
// web.access in the config, the topic's lines become silver.access_logs
// rows of the registry's schema with their typed columns and the
// variables without a column in extra; a line in another format is a
// reject naming the field where it stopped matching; another topic (not
// declared) reads the default format.
func TestDeclaredAccessFormat(t *testing.T) {
	var cfg config.Config
	err := config.Parse([]byte(`
access_log_formats:
  web.access:
    nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_response_time $upstream_cache_status'
`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	formats, err := cfg.AccessFormats()
	if err != nil {
		t.Fatal(err)
	}
	ingested := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	const (
		main  = `192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "-" "curl/8.5" shop.example.com 0.012 0.010, 0.002 MISS`
		dash  = `192.0.2.8 - - [04/Dec/2026:10:15:33 +0100] "GET /favicon.ico HTTP/1.1" 404 0 "-" "curl/8.5" shop.example.com 0.000 - -`
		clf   = `203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`
		other = "t9.app.access" // no format declared: the default
	)
	conv := newConverterFor(SourceWebAccess, formats)
	rejects := &rejectRows{}
	for i, r := range []*bronzeRow{
		{topic: events.TopicWebAccess, value: []byte(main)},
		{topic: events.TopicWebAccess, value: []byte(dash)},
		{topic: events.TopicWebAccess, value: []byte(clf)}, // not in the declared format
		{topic: other, value: []byte(clf)},
	} {
		r.offset, r.ingestedAt, r.kafkaTS = int64(i), ingested.UnixMicro(), ingested.UnixMicro()
		if err := conv.add(r, events.DefaultMaxFuture); err != nil {
			rejects.add(r, err)
		}
	}
	if len(rejects.rows) != 1 || rejects.rows[0].src.offset != 2 || rejects.rows[0].class != lakehouse.RejectSyntax || rejects.rows[0].field != "http_user_agent" {
		t.Fatalf("rejects %+v, want the default-format line on web.access (offset 2), a syntax error on http_user_agent", rejects.rows)
	}

	sc, err := lakehouse.SilverArrowSchema(lakehouse.SilverAccessLogs)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int64]map[string]string{} // source_offset → column → value
	for rec, err := range conv.batches(sc, &dimLookup{}, 0, 1) {
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := map[string]string{}
			for c, f := range sc.Fields() {
				col := rec.Column(c)
				switch {
				case col.IsNull(i):
					row[f.Name] = "<null>"
				case f.Name == "extra":
					m := col.(*array.Map)
					start, end := m.ValueOffsets(i)
					keys, items := m.Keys().(*array.String), m.Items().(*array.String)
					var kv []string
					for j := start; j < end; j++ {
						kv = append(kv, keys.Value(int(j))+"="+items.Value(int(j)))
					}
					row[f.Name] = strings.Join(kv, ";")
				default:
					row[f.Name] = col.ValueStr(i)
				}
			}
			off := rec.Column(sc.FieldIndices(lakehouse.ColSourceOffset)[0]).(*array.Int64).Value(i)
			rows[off] = row
		}
		rec.Release()
	}
	want := map[int64]map[string]string{
		0: {"client_ip": "192.0.2.7", "method": "GET", "path": "/catalog/shoes?page=2", lakehouse.ColEndpoint: "/catalog/shoes", "status": "200",
			"status_class": "2xx", "bytes": "5120", "referrer": "<null>", "request_time_ms": "12", "cache_status": "MISS",
			"extra": "host=shop.example.com;upstream_response_time=0.010, 0.002"},
		1: {"client_ip": "192.0.2.8", "status": "404", "bytes": "0", "request_time_ms": "0", "cache_status": "<null>", "is_static_file": "true",
			"extra": "host=shop.example.com;upstream_response_time=-"},
		3: {"client_ip": "203.0.113.9", "user": "frank", "status": "200", "request_time_ms": "<null>", "extra": "<null>"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows at offsets %v, want 0, 1 and 3", rows)
	}
	for off, cols := range want {
		for col, v := range cols {
			if got := rows[off][col]; got != v {
				t.Errorf("offset %d: %s = %q, want %q", off, col, got, v)
			}
		}
	}
}
