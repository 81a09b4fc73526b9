package events

import (
	"errors"
	"reflect"
	"strings"
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

// FuzzAccessFormat: lines in the declared formats of the tests (nginx
// combined and main, Apache combined with %D, the CDN TSV) parse without
// panic, with typed errors, to records that pass Validate; a line that both
// the compiled combined format and the default parser accept reads the same
// through both.
func FuzzAccessFormat(f *testing.F) {
	f.Add([]byte(clfLine))
	f.Add([]byte(clfLine + ` "-" 0.012 0.010, 0.003 : 0.001`))
	f.Add([]byte(`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /a HTTP/1.1" 200 5 "-" "x \"y\" \\" 2345`))
	f.Add([]byte("2026-12-04T10:15:32+01:00\th\t192.0.2.7\tGET\t/\tHTTP/1.1\t200\t1\t2\t3\t512, 1024\tHIT\t0.001\t-"))
	f.Add([]byte("1.2.3.4 - - [\xff"))
	combined := mustCompile(CompileNginx("combined"))
	formats := []*AccessFormat{combined, mustCompile(CompileNginx(nginxMain)), mustCompile(CompileApache(apacheD)), mustCompile(CompileTSV(cdnFields))}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, af := range formats {
			a, err := af.Parse(b)
			checkErr(t, err)
			if err != nil {
				continue
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("%s accepted a line that fails Validate: %v", af, err)
			}
			if af != combined {
				continue
			}
			if def, err := ParseAccessLog(b); err == nil && !reflect.DeepEqual(def, a) {
				t.Fatalf("combined and the default parser disagree:\n compiled %+v\n  default %+v", a, def)
			}
		}
	})
}

// FuzzCompileAccessFormat: any declaration compiles or fails with a
// *FormatError; a compiled one parses any line without panic, with typed
// errors.
func FuzzCompileAccessFormat(f *testing.F) {
	f.Add(nginxMain, []byte(clfLine+` "-" 0.012 0.010`))
	f.Add(apacheD, []byte(clfLine+" 12"))
	f.Add(`${msec}|$remote_addr|$status|"$request"|$upstream_addr`, []byte(`1.5|1.2.3.4|200|"GET / HTTP/1.1"|a, b`))
	f.Add(`%a %{sec}t %>s %400,501{User-agent}i %{ms}T`, []byte(`1.2.3.4 1796375732 500 - 7`))
	f.Fuzz(func(t *testing.T, decl string, line []byte) {
		for _, compile := range []func(string) (*AccessFormat, error){CompileNginx, CompileApache, func(s string) (*AccessFormat, error) {
			return CompileTSV(strings.Split(s, " "))
		}} {
			af, err := compile(decl)
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("compile error is not a *FormatError: %v", err)
				}
				continue
			}
			a, err := af.Parse(line)
			checkErr(t, err)
			if err == nil {
				if err := a.Validate(); err != nil {
					t.Fatalf("%s accepted a line that fails Validate: %v", af, err)
				}
			}
		}
	})
}
