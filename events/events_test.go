package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func sampleEvent() AppEvent {
	return AppEvent{
		EventID: "e-1", ActionID: "a-1", TS: t0, Service: "payments", Host: "pay-1",
		UserID: "u-42", SessionID: "s-7", Type: TypePaymentAttempt, Item: "sku-9",
		Provider: "stripe", Amount: 19.99, Currency: "EUR", Status: StatusFailed,
		Attempt: 2, DurationMs: 123.5, OrderID: "a-0",
	}
}

func marshalNoHTML(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ev := sampleEvent()
	ev.Page = "weird \"page\" <a> & \\ \n\t\x01 é \u2028 end"
	tiny := ev
	tiny.Amount, tiny.DurationMs = 1e-7, 3e21
	minimal := AppEvent{EventID: "e", ActionID: "a", TS: t0, Service: "s", Type: TypePageView, Status: StatusOK}
	tests := []struct {
		name string
		v    any
		got  []byte
	}{
		{"event", ev, ev.AppendJSON(nil)},
		{"event exponent floats", tiny, tiny.AppendJSON(nil)},
		{"event omitted fields", minimal, minimal.AppendJSON(nil)},
		{"log", AppLog{TS: t0, Level: LevelError, Service: "orders", Host: "h", Node: "n", Module: "orders.db", File: "db.go", Line: 42, Message: "boom", ActionID: "a"}, nil},
		{"metric", Metric{TS: t0, Host: "h", Service: "s", CPUPct: 12.5, MemBytes: 1 << 30, MemPct: 40, Load1: 0.7, DiskUsedPct: 55.25, NetRxBytes: 10, NetTxBytes: 20, Requests: 3}, nil},
		{"item", DimItem{Item: "sku-1", Name: "Lamp", Category: "home", Price: 9.5}, nil},
		{"provider", DimProvider{Provider: "p1", Name: "PayOne", Kind: KindCard}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.got
			switch v := tt.v.(type) {
			case AppLog:
				got = v.AppendJSON(nil)
			case Metric:
				got = v.AppendJSON(nil)
			case DimItem:
				got = v.AppendJSON(nil)
			case DimProvider:
				got = v.AppendJSON(nil)
			}
			if want := marshalNoHTML(t, tt.v); !bytes.Equal(got, want) {
				t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestParseAppEventRoundTrip(t *testing.T) {
	ev := sampleEvent()
	ev.Page = "quote\" slash\\ nl\n uni é"
	got, err := ParseAppEvent(ev.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, ev)
	}
}

func TestParseAppEvent(t *testing.T) {
	const good = `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26.535+01:00","service":"s","type":"page_view","status":"ok"}`
	tests := []struct {
		name    string
		in      string
		wantErr error
		field   string
	}{
		{"good", good, nil, ""},
		{"unknown keys and nesting skipped", `{"x":{"y":[1,2,{"z":"}"}]},"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"buy","item":"i","status":"ok","k":true,"n":null}`, nil, ""},
		{"escapes in strings", `{"event_id":"\u00e9\ud83d\ude00\n","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","status":"ok"}`, nil, ""},
		{"empty", ``, ErrEmpty, ""},
		{"not utf8", "{\"event_id\":\"\xff\"}", ErrNotUTF8, ""},
		{"not json", `hello`, ErrSyntax, ""},
		{"array", `[1]`, ErrSyntax, ""},
		{"truncated", good[:40], ErrSyntax, "ts"},
		{"trailing data", good + `x`, ErrSyntax, ""},
		{"missing event_id", `{"action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","status":"ok"}`, ErrMissing, "event_id"},
		{"missing ts", `{"event_id":"e","action_id":"a","service":"s","type":"page_view","status":"ok"}`, ErrMissing, "ts"},
		{"bad ts", `{"event_id":"e","action_id":"a","ts":"2026-02-30T00:00:00Z","service":"s","type":"page_view","status":"ok"}`, ErrSyntax, "ts"},
		{"numeric ts", `{"event_id":"e","action_id":"a","ts":1700000000,"service":"s","type":"page_view","status":"ok"}`, ErrSyntax, "ts"},
		{"unknown type", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"dance","status":"ok"}`, ErrInvalid, "type"},
		{"bad status", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","status":"meh"}`, ErrInvalid, "status"},
		{"negative amount", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"buy","item":"i","amount":-1,"status":"ok"}`, ErrInvalid, "amount"},
		{"amount is string", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"buy","item":"i","amount":"1","status":"ok"}`, ErrSyntax, "amount"},
		{"float attempt", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"payment_attempt","provider":"p","attempt":1.5,"status":"ok"}`, ErrSyntax, "attempt"},
		{"payment without provider", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"payment_attempt","attempt":1,"status":"ok"}`, ErrMissing, "provider"},
		{"buy without item", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"buy","status":"ok"}`, ErrMissing, "item"},
		{"bad currency", `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","currency":"eur","status":"ok"}`, ErrInvalid, "currency"},
		{"control char", "{\"event_id\":\"a\x01\"}", ErrSyntax, "event_id"},
		{"deep nesting", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, ErrSyntax, "x"},
		{"too long", `{"x":"` + strings.Repeat("a", MaxRecordBytes) + `"}`, ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAppEvent([]byte(tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Field != tt.field {
				t.Fatalf("error %v: want field %q", err, tt.field)
			}
		})
	}
}

func TestParseAppEventTimeZone(t *testing.T) {
	e, err := ParseAppEvent([]byte(`{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26.5+01:30","service":"s","type":"page_view","status":"ok"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 14, 13, 39, 26, 500_000_000, time.UTC); !e.TS.Equal(want) || e.TS.Location() != time.UTC {
		t.Errorf("ts = %v, want %v in UTC", e.TS, want)
	}
}

func TestParseAppLogMetricDims(t *testing.T) {
	tests := []struct {
		name    string
		parse   func([]byte) error
		in      string
		wantErr error
		field   string
	}{
		{"log good", parseErr(ParseAppLog), `{"ts":"2026-03-14T15:09:26Z","level":"error","service":"s","host":"h","file":"a.go","line":3,"message":"m"}`, nil, ""},
		{"log bad level", parseErr(ParseAppLog), `{"ts":"2026-03-14T15:09:26Z","level":"fatal","service":"s","message":"m"}`, ErrInvalid, "level"},
		{"log no message", parseErr(ParseAppLog), `{"ts":"2026-03-14T15:09:26Z","level":"info","service":"s"}`, ErrMissing, "message"},
		{"log negative line", parseErr(ParseAppLog), `{"ts":"2026-03-14T15:09:26Z","level":"info","service":"s","message":"m","line":-1}`, ErrInvalid, "line"},
		{"metric good", parseErr(ParseMetric), `{"ts":"2026-03-14T15:09:26Z","host":"h","cpu_pct":50,"mem_bytes":1}`, nil, ""},
		{"metric cpu range", parseErr(ParseMetric), `{"ts":"2026-03-14T15:09:26Z","host":"h","cpu_pct":150}`, ErrInvalid, "cpu_pct"},
		{"metric no host", parseErr(ParseMetric), `{"ts":"2026-03-14T15:09:26Z"}`, ErrMissing, "host"},
		{"metric huge int", parseErr(ParseMetric), `{"ts":"2026-03-14T15:09:26Z","host":"h","mem_bytes":99999999999999999999}`, ErrSyntax, "mem_bytes"},
		{"item good", parseErr(ParseDimItem), `{"item":"i","category":"c","price":1}`, nil, ""},
		{"item tombstone", parseErr(ParseDimItem), ``, ErrEmpty, ""},
		{"item no category", parseErr(ParseDimItem), `{"item":"i","price":1}`, ErrMissing, "category"},
		{"provider good", parseErr(ParseDimProvider), `{"provider":"p","name":"P","kind":"wallet"}`, nil, ""},
		{"provider bad kind", parseErr(ParseDimProvider), `{"provider":"p","name":"P","kind":"cash"}`, ErrInvalid, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse([]byte(tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var pe *ParseError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &pe) || pe.Field != tt.field {
				t.Fatalf("error %v, want %v on field %q", err, tt.wantErr, tt.field)
			}
		})
	}
}

func parseErr[T any](f func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error { _, err := f(b); return err }
}

const clfLine = `203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`

func TestParseAccessLog(t *testing.T) {
	want := AccessLog{
		ClientIP: "203.0.113.9", User: "frank", Time: time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC),
		Method: "GET", Path: "/apache_pb.gif", Protocol: "HTTP/1.0", Status: 200, Bytes: 2326,
		Referrer: "http://www.example.com/start.html", UserAgent: "Mozilla/4.08 [en] (Win98; I ;Nav)",
		RequestTimeMs: NoRequestTime,
	}
	withTiming := want
	withTiming.RequestTimeMs, withTiming.CacheStatus = 42, "HIT"
	dashRequest := want
	dashRequest.Method, dashRequest.Path, dashRequest.Protocol, dashRequest.Status, dashRequest.Bytes, dashRequest.Referrer, dashRequest.UserAgent = "", "", "", 408, NoBytes, "", ""
	spacePath := want
	// cut returns want as a line cut after its status parses: the fields from
	// the first cut one on absent, issue recorded.
	cut := func(issue string, bytes int64, referrer string) AccessLog {
		a := want
		a.Bytes, a.Referrer, a.UserAgent, a.ParseIssue = bytes, referrer, "", issue
		return a
	}
	const head = `203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200`
	spacePath.Path, spacePath.UserAgent = "/a b", `say "hi" \ back`

	tests := []struct {
		name    string
		in      string
		want    AccessLog
		wantErr error
		field   string
	}{
		{"combined", clfLine, want, nil, ""},
		{"combined with newline", clfLine + "\r\n", want, nil, ""},
		{"with timing", clfLine + " 0.042 HIT", withTiming, nil, ""},
		{"dash request", `203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "-" 408 - "-" "-"`, dashRequest, nil, ""},
		{"space in path and escaped quote", `203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /a b HTTP/1.0" 200 2326 "http://www.example.com/start.html" "say \"hi\" \\ back"`, spacePath, nil, ""},
		{"empty", "", AccessLog{}, ErrEmpty, ""},
		{"not utf8", "1.2.3.4 - - [\xff", AccessLog{}, ErrNotUTF8, ""},
		{"truncated", clfLine[:60], AccessLog{}, ErrSyntax, "request"},
		{"no time", `1.2.3.4 - - "GET / HTTP/1.1" 200 1 "-" "-"`, AccessLog{}, ErrSyntax, "time"},
		{"bad month", strings.Replace(clfLine, "Oct", "Okt", 1), AccessLog{}, ErrSyntax, "time"},
		{"bad status", strings.Replace(clfLine, " 200 ", " 2x0 ", 1), AccessLog{}, ErrSyntax, "status"},
		{"status range", strings.Replace(clfLine, " 200 ", " 700 ", 1), AccessLog{}, ErrInvalid, "status"},
		{"bad bytes", strings.Replace(clfLine, " 2326 ", " -5 ", 1), AccessLog{}, ErrSyntax, "bytes"},
		{"bad ip", strings.Replace(clfLine, "203.0.113.9", "<script>", 1), AccessLog{}, ErrInvalid, "client_ip"},
		{"bad request time", clfLine + " fast HIT", AccessLog{}, ErrSyntax, "request_time"},
		{"trailing junk", clfLine + " 0.1 HIT more", AccessLog{}, ErrSyntax, ""},
		// Lines cut after the status are kept with what is intact.
		{"cut after status", head, cut(IssueTruncatedBytes, NoBytes, ""), nil, ""},
		{"cut after status and space", head + " ", cut(IssueTruncatedBytes, NoBytes, ""), nil, ""},
		{"cut in bytes", head + " 23", cut(IssueTruncatedBytes, NoBytes, ""), nil, ""},
		{"cut after bytes", head + " 2326 ", cut(IssueTruncatedReferrer, 2326, ""), nil, ""},
		{"cut after dash bytes", head + " -", cut(IssueTruncatedReferrer, NoBytes, ""), nil, ""},
		{"cut in referrer", head + ` 2326 "http://www.exa`, cut(IssueUnterminatedReferrer, 2326, ""), nil, ""},
		{"cut after referrer", head + ` 2326 "http://www.example.com/start.html"`, cut(IssueTruncatedUserAgent, 2326, "http://www.example.com/start.html"), nil, ""},
		{"cut in user agent", clfLine[:len(clfLine)-1], cut(IssueUnterminatedUserAgent, 2326, "http://www.example.com/start.html"), nil, ""},
		{"cut in status", head[:len(head)-1], AccessLog{}, ErrSyntax, "status"},
		{"cut before status", head[:len(head)-4], AccessLog{}, ErrSyntax, "status"},
		{"cut in request", head[:len(head)-20], AccessLog{}, ErrSyntax, "request"},
		{"bad bytes then cut", head + " 12x", AccessLog{}, ErrSyntax, "bytes"},
		{"referrer not quoted", head + " 2326 http://x", AccessLog{}, ErrSyntax, "referrer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAccessLog([]byte(tt.in))
			if tt.wantErr != nil {
				var pe *ParseError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &pe) || pe.Field != tt.field {
					t.Fatalf("error %v, want %v on field %q", err, tt.wantErr, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			again, err := ParseAccessLog(got.AppendLine(nil))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip via %q: %+v, %v", got.AppendLine(nil), again, err)
			}
		})
	}
}

func TestParseSecondsAsMs(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.042", 42, true}, {"1", 1000, true}, {"1.5", 1500, true}, {"0.0125", 12.5, true},
		{"", 0, false}, {".5", 0, false}, {"1.", 0, false}, {"1.2.3", 0, false}, {"99999999", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseSecondsAsMs(tt.in)
			if ok != tt.ok || (ok && math.Abs(got-tt.want) > 1e-9) {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestStatusClass(t *testing.T) {
	if StatusClass(404) != "4xx" || StatusClass(200) != "2xx" || StatusClass(99) != "" {
		t.Error("StatusClass")
	}
}

func TestIsStaticFile(t *testing.T) {
	tests := []struct {
		target string
		want   bool
	}{
		// Real-world files: any extension counts.
		{"/files/logstash/logstash-1.3.2-monolithic.jar", true},
		{"/projects/xdotool/xdotool.xhtml", true},
		{"/files/releases/weir-0.1.tar.gz", true},
		{"/feed.rss", true},
		{"/static/app.JS", true},
		{"/img/a.png?v=3", true},
		{"/robots.txt", true},
		{"/favicon.ico#top", true},
		{"/.env", true}, // dot-files are files
		{"/blog/.htaccess", true},
		{"/download/file%2Etar", true},          // percent-decoded
		{"/a/report.pdf;jsessionid=0A1B", true}, // ;params dropped
		{"http://example.com/pub/book.epub?x=1", true},
		{"https://example.com:8443/a/b.c", true},
		// Not files.
		{"/", false},
		{"", false},
		{"*", false},
		{"/api/cart", false},
		{"/v1.2/items", false},
		{"/dir.name/", false}, // a trailing slash is a directory
		{"/a?b=c.d", false},
		{"/a#sec.2", false},
		{"/a;v=1.2", false},
		{"/trailing.", false},
		{"/..", false},
		{"/.well-known/", false},
		{"http://example.com", false},
		{"http://example.com/", false},
		{"http://example.com/api/items", false},
		{"/bad%zz", false},
	}
	for _, tt := range tests {
		if got := IsStaticFile(tt.target); got != tt.want {
			t.Errorf("IsStaticFile(%q) = %v, want %v", tt.target, got, tt.want)
		}
	}
}

func TestBestEffortEventTime(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		in    string
		want  time.Time
		ok    bool
	}{
		{"access", TopicWebAccess, clfLine, time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC), true},
		{"access truncated", TopicWebAccess, clfLine[:30], time.Time{}, false},
		{"event", TopicAppEvents, `{"event_id":"ts","ts" : "2026-03-14T15:09:26Z"}`, time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), true},
		{"event broken json still has ts", TopicAppEvents, `{"ts":"2026-03-14T15:09:26Z", garbage`, time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), true},
		{"log no ts", TopicAppLogs, `{"level":"info"}`, time.Time{}, false},
		{"metric bad ts", TopicMetrics, `{"ts":"yesterday"}`, time.Time{}, false},
		{"dims", TopicDimItems, `{"ts":"2026-03-14T15:09:26Z"}`, time.Time{}, false},
		{"unknown topic", "x", clfLine, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := BestEffortEventTime(tt.topic, []byte(tt.in))
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestExtraFieldsKept: fields a model does not know are kept as their JSON
// text (strings with their quotes, objects whole, null absent) and written
// back by AppendJSON, so a producer's new field is never lost.
func TestExtraFieldsKept(t *testing.T) {
	const in = `{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","status":"ok",` +
		`"coupon":"SAVE\u0031","discount":12.5,"gift":true,"none":null,"meta":{"a":[1, 2]},"Status":"x"}`
	ev, err := ParseAppEvent([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Extra{"coupon": `"SAVE\u0031"`, "discount": "12.5", "gift": "true", "meta": `{"a":[1, 2]}`, "Status": `"x"`}
	if !reflect.DeepEqual(ev.Extra, want) {
		t.Errorf("Extra = %v, want %v", ev.Extra, want)
	}
	again, err := ParseAppEvent(ev.AppendJSON(nil))
	if err != nil || !reflect.DeepEqual(again, ev) {
		t.Errorf("round trip: %v\n got %+v\nwant %+v", err, again, ev)
	}
	lg, err := ParseAppLog([]byte(`{"ts":"2026-03-14T15:09:26Z","level":"info","service":"s","host":"h","message":"m","trace_id":"t1"}`))
	if err != nil || lg.Extra["trace_id"] != `"t1"` {
		t.Errorf("app log Extra = %v, %v", lg.Extra, err)
	}
	m, err := ParseMetric([]byte(`{"ts":"2026-03-14T15:09:26Z","host":"h","cpu_pct":1,"mem_bytes":1,"mem_pct":1,"load1":1,"disk_used_pct":1,"net_rx_bytes":1,"net_tx_bytes":1,"requests":1,"gpu_pct":7}`))
	if err != nil || m.Extra["gpu_pct"] != "7" {
		t.Errorf("metric Extra = %v, %v", m.Extra, err)
	}
	known, err := ParseAppEvent([]byte(`{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","status":"ok"}`))
	if err != nil || known.Extra != nil {
		t.Errorf("a record of known fields only: Extra = %#v, %v", known.Extra, err)
	}
}
