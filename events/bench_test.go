package events

import (
	"fmt"
	"testing"
	"time"
)

// Parse throughput. b.SetBytes makes `go test -bench` print MB/s per core
// (run with -cpu=1): go test ./events -run='^$' -bench=Parse -cpu=1

func accessLines(n int) [][]byte {
	lines := make([][]byte, n)
	for i := range lines {
		a := AccessLog{
			ClientIP: fmt.Sprintf("10.%d.%d.%d", i%7, i%250, i%13), Time: t0.Add(time.Duration(i) * time.Second),
			Method: "GET", Path: fmt.Sprintf("/api/items/%d?page=%d", i, i%5), Protocol: "HTTP/1.1", Status: 200 + i%4*100,
			Bytes: int64(512 + i), Referrer: "https://shop.example.com/catalog/shoes",
			UserAgent:     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
			RequestTimeMs: float64(i % 900), CacheStatus: "MISS",
		}
		lines[i] = a.AppendLine(nil)
	}
	return lines
}

func eventPayloads(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		ev := sampleEvent()
		ev.EventID = fmt.Sprintf("01J%023d", i)
		ev.TS = t0.Add(time.Duration(i) * time.Millisecond)
		out[i] = ev.AppendJSON(nil)
	}
	return out
}

func benchParse[T any](b *testing.B, inputs [][]byte, parse func([]byte) (T, error)) {
	total := 0
	for _, in := range inputs {
		total += len(in)
	}
	b.SetBytes(int64(total / len(inputs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := parse(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAccessLog(b *testing.B) { benchParse(b, accessLines(1024), ParseAccessLog) }
func BenchmarkParseAppEvent(b *testing.B)  { benchParse(b, eventPayloads(1024), ParseAppEvent) }

func BenchmarkParseAppLog(b *testing.B) {
	l := AppLog{TS: t0, Level: LevelError, Service: "payments", Host: "pay-3", Node: "pay-3-7f9c", Module: "payments.provider",
		File: "provider/client.go", Line: 212, Message: "provider call failed: upstream timeout after 3000ms (provider=stripe attempt=2)", ActionID: "01J000000000000000000000042"}
	benchParse(b, [][]byte{l.AppendJSON(nil)}, ParseAppLog)
}

func BenchmarkParseMetric(b *testing.B) {
	m := Metric{TS: t0, Host: "web-1", Service: "web", CPUPct: 43.25, MemBytes: 3 << 30, MemPct: 37.5, Load1: 1.75, DiskUsedPct: 61.2, NetRxBytes: 123456, NetTxBytes: 654321, Requests: 1234}
	benchParse(b, [][]byte{m.AppendJSON(nil)}, ParseMetric)
}

func BenchmarkAppendAppEvent(b *testing.B) {
	ev := sampleEvent()
	buf := ev.AppendJSON(nil)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = ev.AppendJSON(buf[:0])
	}
}

func BenchmarkBestEffortEventTime(b *testing.B) {
	in := eventPayloads(1)[0]
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		BestEffortEventTime(TopicAppEvents, in)
	}
}

// The compiled nginx combined format against the default parser on the same
// Combined Log Format lines (the README's figure for declared formats), and
// the declared formats of the tests with their extra fields.
func BenchmarkParseCombinedDefault(b *testing.B) {
	benchParse(b, combinedLines(1024), ParseAccessLog)
}

func BenchmarkParseCombinedNginx(b *testing.B) {
	benchParse(b, combinedLines(1024), mustCompile(CompileNginx("combined")).Parse)
}

func BenchmarkParseNginxMain(b *testing.B) {
	lines := combinedLines(1024)
	for i := range lines {
		lines[i] = fmt.Appendf(lines[i], ` "-" 0.%03d 0.%03d, 0.002`, i%1000, i%900)
	}
	benchParse(b, lines, mustCompile(CompileNginx(nginxMain)).Parse)
}

func BenchmarkParseCDNTSV(b *testing.B) {
	lines := make([][]byte, 1024)
	for i := range lines {
		lines[i] = fmt.Appendf(nil, "2026-12-04T10:%02d:%02d+01:00\tcdn%d.example.net\t10.%d.%d.%d\tGET\t/img/%d.png\tHTTP/2.0\t200\t%d\t%d\t%d\t512, %d\tMISS\t0.0%02d\tMozilla/5.0 (X11; Linux x86_64)",
			i/60%60, i%60, i%8, i%7, i%250, i%13, i, 300+i%200, 18000+i, 17600+i, i, i%100)
	}
	benchParse(b, lines, mustCompile(CompileTSV(cdnFields)).Parse)
}
