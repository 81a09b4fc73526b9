package events

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Real formats: nginx's predefined combined, a "main" format with timings
// (the default nginx.conf's main plus $request_time
// $upstream_response_time), Apache's combined with %D, and a tab-separated
// CDN edge format with cache status and request/response sizes.
const (
	nginxMain = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $upstream_response_time`
	apacheD   = `%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %D`
)

var cdnFields = []string{"time_iso8601", "host", "remote_addr", "request_method", "request_uri", "server_protocol", "status",
	"request_length", "bytes_sent", "body_bytes_sent", "upstream_bytes_received", "upstream_cache_status", "request_time", "http_user_agent"}

func mustCompile(f *AccessFormat, err error) *AccessFormat {
	if err != nil {
		panic(err) // the formats of these tests compile
	}
	return f
}

func TestAccessFormats(t *testing.T) {
	combined := mustCompile(CompileNginx("combined"))
	main := mustCompile(CompileNginx(nginxMain))
	apache := mustCompile(CompileApache(apacheD))
	cdn := mustCompile(CompileTSV(cdnFields))
	iso := mustCompile(CompileNginx(`$time_iso8601 $msec $host $remote_addr "$request" $status $bytes_sent $request_time $upstream_cache_status`))
	msec := mustCompile(CompileNginx(`$msec|$remote_addr|$status|${request_method}|$request_uri|$upstream_addr`))

	at := time.Date(2026, 12, 4, 9, 15, 32, 0, time.UTC) // 10:15:32 +0100
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	base := AccessLog{ClientIP: "192.0.2.7", Time: at, Method: "GET", Path: "/catalog/shoes?page=2", Protocol: "HTTP/1.1",
		Status: 200, Bytes: 5120, Referrer: "https://shop.example.com/", UserAgent: ua, RequestTimeMs: NoRequestTime}
	with := func(f func(*AccessLog)) AccessLog { a := base; f(&a); return a }

	tests := []struct {
		name string
		f    *AccessFormat
		in   string
		want AccessLog
	}{
		{"nginx combined", combined,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "https://shop.example.com/" "` + ua + `"`, base},
		{"nginx combined, user, dash bytes and referrer", combined,
			`192.0.2.7 - alice [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 304 - "-" "` + ua + `"` + "\n",
			with(func(a *AccessLog) { a.User, a.Status, a.Bytes, a.Referrer = "alice", 304, NoBytes, "" })},
		{"nginx combined, escaped quote", combined,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "https://shop.example.com/" "say \"hi\" \\"`,
			with(func(a *AccessLog) { a.UserAgent = `say "hi" \` })},
		{"nginx main, timings", main,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "https://shop.example.com/" "` + ua + `" "-" 0.012 0.010`,
			with(func(a *AccessLog) {
				a.RequestTimeMs = 12
				a.Extra = map[string]string{"http_x_forwarded_for": "-", "upstream_response_time": "0.010"}
			})},
		{"nginx main, no upstream", main,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "https://shop.example.com/" "` + ua + `" "198.51.100.4, 10.0.0.2" 0.000 -`,
			with(func(a *AccessLog) {
				a.RequestTimeMs = 0
				a.Extra = map[string]string{"http_x_forwarded_for": "198.51.100.4, 10.0.0.2", "upstream_response_time": "-"}
			})},
		{"nginx main, two upstreams tried", main,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 502 157 "https://shop.example.com/" "` + ua + `" "-" 3.004 3.001, 0.002 : 0.001`,
			with(func(a *AccessLog) {
				a.Status, a.Bytes, a.RequestTimeMs = 502, 157, 3004
				a.Extra = map[string]string{"http_x_forwarded_for": "-", "upstream_response_time": "3.001, 0.002 : 0.001"}
			})},
		{"apache combined with %D", apache,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "https://shop.example.com/" "` + ua + `" 2345`,
			with(func(a *AccessLog) { a.RequestTimeMs = 2.345 })},
		{"apache 408 without request", apache,
			`192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "-" 408 - "-" "-" 20000123`,
			AccessLog{ClientIP: "192.0.2.7", Time: at, Status: 408, Bytes: NoBytes, RequestTimeMs: 20000.123}},
		{"cdn tsv, miss", cdn,
			"2026-12-04T10:15:32+01:00\tstatic.example.net\t192.0.2.7\tGET\t/img/logo.png?v=3\tHTTP/2.0\t200\t512\t18432\t18011\t512, 1024\tMISS\t0.084\t" + ua,
			AccessLog{ClientIP: "192.0.2.7", Time: at, Method: "GET", Path: "/img/logo.png?v=3", Protocol: "HTTP/2.0", Status: 200,
				Bytes: 18011, UserAgent: ua, RequestTimeMs: 84, CacheStatus: "MISS",
				Extra: map[string]string{"host": "static.example.net", "request_length": "512", "bytes_sent": "18432", "upstream_bytes_received": "512, 1024"}}},
		{"cdn tsv, hit", cdn,
			"2026-12-04T10:15:32+01:00\tstatic.example.net\t2001:db8::7\tHEAD\t/img/logo.png\tHTTP/1.1\t200\t301\t421\t0\t-\tHIT\t0.000\t-",
			AccessLog{ClientIP: "2001:db8::7", Time: at, Method: "HEAD", Path: "/img/logo.png", Protocol: "HTTP/1.1", Status: 200,
				Bytes: 0, RequestTimeMs: 0, CacheStatus: "HIT",
				Extra: map[string]string{"host": "static.example.net", "request_length": "301", "bytes_sent": "421", "upstream_bytes_received": "-"}}},
		{"iso time first, msec kept", iso,
			`2026-12-04T10:15:32+01:00 1796375732.123 shop.example.com 192.0.2.7 "POST /api/cart HTTP/2.0" 201 733 0.031 BYPASS`,
			AccessLog{ClientIP: "192.0.2.7", Time: at, Method: "POST", Path: "/api/cart", Protocol: "HTTP/2.0", Status: 201,
				Bytes: NoBytes, RequestTimeMs: 31, CacheStatus: "BYPASS",
				Extra: map[string]string{"msec": "1796375732.123", "host": "shop.example.com", "bytes_sent": "733"}}},
		{"msec and pipes", msec,
			`1796375732.123|192.0.2.7|404|GET|/missing|10.0.0.5:8080, 10.0.0.6:8080`,
			AccessLog{ClientIP: "192.0.2.7", Time: at.Add(123 * time.Millisecond), Method: "GET", Path: "/missing", Status: 404,
				Bytes: NoBytes, RequestTimeMs: NoRequestTime, Extra: map[string]string{"upstream_addr": "10.0.0.5:8080, 10.0.0.6:8080"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestCompiledCombinedMatchesDefault: a whole Combined Log Format line reads
// the same through the compiled nginx combined format as through
// ParseAccessLog.
func TestCompiledCombinedMatchesDefault(t *testing.T) {
	combined := mustCompile(CompileNginx("combined"))
	apache := mustCompile(CompileApache("combined"))
	lines := append(combinedLines(200), []byte(clfLine),
		[]byte(`203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "-" 408 - "-" "-"`),
		[]byte(`::1 - - [29/Feb/2024:00:00:00 +0000] "GET /a b HTTP/1.1" 301 0 "-" "x \"y\" \\"`))
	for _, l := range lines {
		want, err := ParseAccessLog(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		for _, f := range []*AccessFormat{combined, apache} {
			got, err := f.Parse(l)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s via %s:\n got %+v, %v\nwant %+v", l, f, got, err, want)
			}
		}
	}
}

func TestAccessFormatRejects(t *testing.T) {
	main := mustCompile(CompileNginx(nginxMain))
	cdn := mustCompile(CompileTSV(cdnFields))
	const line = `192.0.2.7 - - [04/Dec/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 5120 "-" "curl/8.5" "-" 0.012 0.010`
	tsv := "2026-12-04T10:15:32+01:00\th\t192.0.2.7\tGET\t/\tHTTP/1.1\t200\t1\t2\t3\t-\tHIT\t0.001\t-"
	tests := []struct {
		name  string
		f     *AccessFormat
		in    string
		class error
		field string
	}{
		{"empty", main, "", ErrEmpty, ""},
		{"not utf8", main, "192.0.2.7 - \xff", ErrNotUTF8, ""},
		{"default format line", main, clfLine, ErrSyntax, "http_user_agent"}, // the line ends after it
		{"cut in request", main, line[:50], ErrSyntax, "request"},
		{"cut before timings", main, line[:strings.Index(line, ` 0.012`)], ErrSyntax, "http_x_forwarded_for"},
		{"bad time", main, strings.Replace(line, "Dec", "Dez", 1), ErrSyntax, "time_local"},
		{"bad status", main, strings.Replace(line, " 200 ", " 2000 ", 1), ErrSyntax, "status"},
		{"status range", main, strings.Replace(line, " 200 ", " 999 ", 1), ErrInvalid, "status"},
		{"bad bytes", main, strings.Replace(line, " 5120 ", " lots ", 1), ErrSyntax, "body_bytes_sent"},
		{"bad request time", main, strings.Replace(line, "0.012", "fast", 1), ErrSyntax, "request_time"},
		{"bad client", main, strings.Replace(line, "192.0.2.7", "<x>", 1), ErrInvalid, "client_ip"},
		{"literal missing", main, strings.Replace(line, " - - [", " - [", 1), ErrSyntax, "remote_user"},
		{"tsv too few fields", cdn, tsv[:strings.LastIndexByte(tsv, '\t')], ErrSyntax, "request_time"},
		{"tsv too many fields", cdn, tsv + "\textra", ErrSyntax, "http_user_agent"},
		{"tsv bad iso time", cdn, strings.Replace(tsv, "2026-12-04T", "2026-12-04 T", 1), ErrSyntax, "time_iso8601"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Parse([]byte(tt.in))
			var pe *ParseError
			if !errors.Is(err, tt.class) || !errors.As(err, &pe) || pe.Field != tt.field {
				t.Fatalf("error %v, want %v on field %q", err, tt.class, tt.field)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		compile func() (*AccessFormat, error)
		want    string
	}{
		{"adjacent variables", func() (*AccessFormat, error) {
			return CompileNginx(`$remote_addr $host$request_uri $status [$time_local]`)
		}, "request_uri follows host without a separator"},
		{"lone dollar", func() (*AccessFormat, error) { return CompileNginx(`$remote_addr $ $status`) }, "byte 13: $ without a variable name"},
		{"open brace", func() (*AccessFormat, error) { return CompileNginx(`${remote_addr $status`) }, "without its closing }"},
		{"no status", func() (*AccessFormat, error) { return CompileNginx(`$remote_addr [$time_local]`) }, "no field for a status"},
		{"no time", func() (*AccessFormat, error) { return CompileNginx(`$remote_addr $status`) }, "no field for a time"},
		{"no client", func() (*AccessFormat, error) { return CompileApache(`%t %>s`) }, "no field for a client address"},
		{"unknown directive", func() (*AccessFormat, error) { return CompileApache(`%h %t %>s %Z`) }, "unknown directive %Z"},
		{"bad T unit", func() (*AccessFormat, error) { return CompileApache(`%h %t %>s %{min}T`) }, "want s, ms or us"},
		{"extra twice", func() (*AccessFormat, error) { return CompileNginx(`$remote_addr [$time_local] $status $host $host`) }, "host appears twice"},
		{"no fields", func() (*AccessFormat, error) { return CompileApache(`just text`) }, "no fields"},
		{"tsv bad name", func() (*AccessFormat, error) { return CompileTSV([]string{"remote_addr", "cache status"}) }, "tsv field 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.compile()
			var fe *FormatError
			if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a *FormatError with %q", err, tt.want)
			}
		})
	}
}

func TestApacheDirectives(t *testing.T) {
	f := mustCompile(CompileApache(`%v %a %h %{X-Forwarded-For}i %>s %<s %{sec}t %{ms}T "%m %U %H" %I %O %400,501{Referer}i`))
	got, err := f.Parse([]byte(`shop.example.com 192.0.2.7 client.example.net 198.51.100.4 200 301 1796375732 12 "GET /a HTTP/1.1" 411 5000 -`))
	if err != nil {
		t.Fatal(err)
	}
	want := AccessLog{ClientIP: "192.0.2.7", Time: time.Unix(1796375732, 0).UTC(), Method: "GET", Path: "/a", Protocol: "HTTP/1.1",
		Status: 200, Bytes: NoBytes, RequestTimeMs: 12,
		Extra: map[string]string{"server_name": "shop.example.com", "remote_addr": "client.example.net", "http_x_forwarded_for": "198.51.100.4",
			"status": "301", "request_length": "411", "bytes_sent": "5000"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestAccessFormatsFor(t *testing.T) {
	main := mustCompile(CompileNginx(nginxMain))
	fs := AccessFormats{TopicWebAccess: main}
	for topic, want := range map[string]*AccessFormat{
		TopicWebAccess: main, "staging.web.access": main, "t1.web.access": main,
		"xweb.access": nil, "web.access.eu": nil, "app.events": nil,
	} {
		if got := fs.Lookup(topic); got != want {
			t.Errorf("Lookup(%q) = %v, want %v", topic, got, want)
		}
	}
	if _, err := AccessFormats(nil).For(TopicWebAccess)([]byte(clfLine)); err != nil {
		t.Errorf("no declaration: the default format: %v", err)
	}
}

// combinedLines are plain Combined Log Format lines (no timing fields).
func combinedLines(n int) [][]byte {
	lines := accessLines(n)
	for i := range lines {
		a, err := ParseAccessLog(lines[i])
		if err != nil {
			panic(err)
		}
		a.RequestTimeMs, a.CacheStatus = NoRequestTime, ""
		lines[i] = a.AppendLine(nil)
	}
	return lines
}
