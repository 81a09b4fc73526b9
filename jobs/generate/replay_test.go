package generate

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"weir/events"
)

// accessFixture returns n web.access lines from a generated run, with about
// 1% malformed and 1% non-UTF-8 lines, deterministically.
func accessFixture(t testing.TB, n int) [][]byte {
	t.Helper()
	cfg := Default(testStart)
	cfg.End = testStart.Add(30 * time.Minute)
	cfg.Rate, cfg.Users = 20, 300
	cfg.Anomalies = []string{}
	cfg.Faults = FaultRates{Malformed: 0.01, NonUTF8: 0.01}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sink := NewFileSink(&out)
	if _, err := g.Run(context.Background(), sink, nil); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	err = ReadRecords(&out, func(r FileRecord) error {
		if r.Topic == events.TopicWebAccess && len(lines) < n {
			lines = append(lines, r.Payload())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < n {
		t.Fatalf("fixture has %d access lines, want %d", len(lines), n)
	}
	return lines
}

func TestReplayFixture(t *testing.T) {
	lines := accessFixture(t, 10_000)
	var file bytes.Buffer
	bad := int64(0)
	for _, l := range lines {
		file.Write(l)
		file.WriteByte('\n')
		if _, err := events.ParseAccessLog(l); err != nil {
			bad++
		}
	}
	var out bytes.Buffer
	sink := NewFileSink(&out)
	st, err := Replay(context.Background(), &file, events.TopicWebAccess, "", sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	if st.Lines != 10_000 || st.Produced != 10_000 || st.Bad != bad || bad == 0 {
		t.Fatalf("stats %+v, want 10000 lines produced and %d bad", st, bad)
	}
	i := 0
	err = ReadRecords(&out, func(r FileRecord) error {
		if !bytes.Equal(r.Payload(), lines[i]) {
			t.Fatalf("record %d changed: %q != %q", i, r.Payload(), lines[i])
		}
		if first, _, found := bytes.Cut(lines[i], []byte(" ")); found && !bytes.Equal(r.KeyBytes(), first) || !found && r.KeyBytes() != nil {
			t.Fatalf("record %d key %q, want the client field %q", i, r.KeyBytes(), first)
		}
		i++
		return nil
	})
	if err != nil || i != 10_000 {
		t.Fatalf("read back %d records: %v", i, err)
	}
}

func TestReplayLines(t *testing.T) {
	good := `203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "curl/8"`
	huge := strings.Repeat("x", MaxReplayLine+5)
	tests := []struct {
		name  string
		in    string
		want  []string
		stats ReplayStats
	}{
		{"crlf and no final newline", good + "\r\n" + good, []string{good, good}, ReplayStats{Lines: 2, Produced: 2}},
		{"empty line is produced and bad", good + "\n\n" + good + "\n", []string{good, "", good},
			ReplayStats{Lines: 3, Produced: 3, Bad: 1, BadBy: map[string]int64{"empty": 1}}},
		{"garbage and not utf8", "hello\n\xff\xfe\n", []string{"hello", "\xff\xfe"},
			ReplayStats{Lines: 2, Produced: 2, Bad: 2, BadBy: map[string]int64{"syntax": 1, "not_utf8": 1}}},
		{"line over the limit is cut", huge + "\n" + good, []string{huge[:MaxReplayLine], good},
			ReplayStats{Lines: 2, Produced: 2, Bad: 1, Cut: 1, BadBy: map[string]int64{"invalid": 1}}},
		{"empty file", "", nil, ReplayStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			sink := NewFileSink(&out)
			st, err := Replay(context.Background(), strings.NewReader(tt.in), events.TopicWebAccess, "", sink)
			if err != nil {
				t.Fatal(err)
			}
			_ = sink.Flush()
			if st.Lines != tt.stats.Lines || st.Produced != tt.stats.Produced || st.Bad != tt.stats.Bad || st.Cut != tt.stats.Cut {
				t.Fatalf("stats %+v, want %+v", st, tt.stats)
			}
			for k, v := range tt.stats.BadBy {
				if st.BadBy[k] != v {
					t.Errorf("bad_by %s = %d, want %d (%v)", k, st.BadBy[k], v, st.BadBy)
				}
			}
			var got []string
			_ = ReadRecords(&out, func(r FileRecord) error { got = append(got, string(r.Payload())); return nil })
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("record %d = %.60q, want %.60q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	spans := []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"40d", 40 * 24 * time.Hour, true}, {"1d12h", 36 * time.Hour, true}, {"90m", 90 * time.Minute, true}, {"xd", 0, false}, {"-1d", 0, false}, {"", 0, false}}
	for _, s := range spans {
		t.Run("span "+s.in, func(t *testing.T) {
			got, err := ParseSpan(s.in)
			if (err == nil) != s.ok || got != s.want {
				t.Errorf("ParseSpan(%q) = %v, %v", s.in, got, err)
			}
		})
	}
	f, err := ParseFaults("malformed=0.1,future=0.2")
	if err != nil || f != (FaultRates{Malformed: 0.1, Future: 0.2}) {
		t.Errorf("ParseFaults: %+v %v", f, err)
	}
	if _, err := ParseFaults("gremlins=0.1"); err == nil {
		t.Error("ParseFaults accepted an unknown kind")
	}
	if k, err := ParseAnomalies("none"); err != nil || k == nil || len(k) != 0 {
		t.Errorf("ParseAnomalies(none) = %v, %v", k, err)
	}
	if _, err := ParseAnomalies("alien_invasion"); err == nil {
		t.Error("ParseAnomalies accepted an unknown kind")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Config)
		field string
	}{
		{"ok", func(*Config) {}, ""},
		{"no start", func(c *Config) { c.Start = time.Time{} }, "start"},
		{"end before start", func(c *Config) { c.End = c.Start }, "end"},
		{"no end, not live", func(c *Config) { c.End = time.Time{} }, "end"},
		{"zero rate", func(c *Config) { c.Rate = 0 }, "rate"},
		{"few users", func(c *Config) { c.Users = 1 }, "users"},
		{"fast metrics", func(c *Config) { c.MetricInterval = time.Millisecond }, "metric_interval"},
		{"unknown anomaly", func(c *Config) { c.Anomalies = []string{"x"} }, "anomalies"},
		{"negative fault", func(c *Config) { c.Faults.Duplicate = -1 }, "faults.duplicate"},
		{"faults sum", func(c *Config) { c.Faults = FaultRates{Malformed: 0.3, NonUTF8: 0.3} }, "faults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.mod(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), " "+tt.field+":") {
				t.Fatalf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

// xs reads as an endless line of 'x'.
type xs struct{}

func (xs) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestReplayLongLineBoundedMemory: a 64 MiB line without a line end (a
// binary file by mistake, a broken export) is cut, and reading it holds no
// more than the cut.
func TestReplayLongLineBoundedMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var out bytes.Buffer
	st, err := Replay(context.Background(), io.LimitReader(xs{}, 64<<20), "app.logs", "", NewFileSink(&out))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if st.Lines != 1 || st.Cut != 1 {
		t.Errorf("stats %+v, want one cut line", st)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("replaying one 64 MiB line allocated %d MiB", alloc>>20)
	}
}
