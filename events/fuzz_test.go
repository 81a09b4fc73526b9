package events

import (
	"errors"
	"reflect"
	"testing"
)

// Fuzz targets: no input may panic; every error is a *ParseError of a known
// class; every accepted JSON record encodes back to bytes that parse to the
// same value. Run one with: go test ./events -run='^$' -fuzz=FuzzParseAppEvent -fuzztime=10s

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error is not a *ParseError: %v", err)
	}
	for _, class := range []error{ErrEmpty, ErrNotUTF8, ErrSyntax, ErrMissing, ErrInvalid} {
		if errors.Is(err, class) {
			return
		}
	}
	t.Fatalf("error of no known class: %v", err)
}

func jsonSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"ts":"2026-03-14T15:09:26.535+01:00","x":[{"y":"\ud83d\ude00"},null,true,1e5]}`))
	f.Add([]byte(`{"a":"\u00"}`))
	f.Add([]byte("{\"a\":\"\xff\"}"))
	f.Add([]byte(``))
}

func fuzzJSON[T any, PT interface {
	*T
	AppendJSON([]byte) []byte
}](f *testing.F, parse func([]byte) (T, error)) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parse(b)
		checkErr(t, err)
		if err != nil {
			return
		}
		again, err := parse(PT(&v).AppendJSON(nil))
		if err != nil {
			t.Fatalf("re-parse of encoded %+v: %v", v, err)
		}
		if !reflect.DeepEqual(again, v) {
			t.Fatalf("round trip changed the value:\n got %+v\nwant %+v", again, v)
		}
	})
}

func FuzzParseAppEvent(f *testing.F) {
	ev := sampleEvent()
	jsonSeeds(f, string(ev.AppendJSON(nil)),
		`{"event_id":"e","action_id":"a","ts":"2026-03-14T15:09:26Z","service":"s","type":"page_view","status":"ok"}`)
	fuzzJSON(f, ParseAppEvent)
}

func FuzzParseAppLog(f *testing.F) {
	jsonSeeds(f, `{"ts":"2026-03-14T15:09:26Z","level":"error","service":"s","host":"h","file":"a.go","line":3,"message":"m\n","action_id":"a"}`)
	fuzzJSON(f, ParseAppLog)
}

func FuzzParseMetric(f *testing.F) {
	jsonSeeds(f, `{"ts":"2026-03-14T15:09:26Z","host":"h","service":"s","cpu_pct":50.5,"mem_bytes":1073741824,"mem_pct":3,"load1":0.5,"disk_used_pct":10,"net_rx_bytes":1,"net_tx_bytes":2,"requests":3}`)
	fuzzJSON(f, ParseMetric)
}

func FuzzParseDimItem(f *testing.F) {
	jsonSeeds(f, `{"item":"sku-1","name":"Lamp","category":"home","price":9.5}`)
	fuzzJSON(f, ParseDimItem)
}

func FuzzParseDimProvider(f *testing.F) {
	jsonSeeds(f, `{"provider":"p1","name":"PayOne","kind":"card"}`)
	fuzzJSON(f, ParseDimProvider)
}

// FuzzParseAccessLog checks no panic, typed errors, and that an accepted
// line passes Validate and encodes to a line that parses again, with the
// same cut (ParseIssue) and the same fields after the status.
func FuzzParseAccessLog(f *testing.F) {
	f.Add([]byte(clfLine))
	f.Add([]byte(clfLine + " 0.042 HIT"))
	f.Add([]byte(`203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "-" 408 - "-" "-"`))
	f.Add([]byte(`::1 - - [29/Feb/2024:00:00:00 +0000] "GET /a b HTTP/1.1" 301 0 "-" "x \"y\" \\" 1.0001 -`))
	f.Add([]byte("1.2.3.4 - - [\xff"))
	for _, cut := range []int{len(clfLine) - 1, len(clfLine) - 40, len(clfLine) - 80, len(clfLine) - 84} {
		f.Add([]byte(clfLine[:cut]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAccessLog(b)
		checkErr(t, err)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("accepted line fails Validate: %v", err)
		}
		again, err := ParseAccessLog(a.AppendLine(nil))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", a.AppendLine(nil), err)
		}
		if again.ParseIssue != a.ParseIssue || again.Bytes != a.Bytes || again.Referrer != a.Referrer || again.UserAgent != a.UserAgent {
			t.Fatalf("round trip via %q changed the cut fields:\n got %+v\nwant %+v", a.AppendLine(nil), again, a)
		}
	})
}

func FuzzBestEffortEventTime(f *testing.F) {
	f.Add(TopicWebAccess, []byte(clfLine))
	f.Add(TopicAppEvents, []byte(`{"ts":"2026-03-14T15:09:26Z"}`))
	f.Fuzz(func(t *testing.T, topic string, b []byte) {
		BestEffortEventTime(topic, b)
	})
}
