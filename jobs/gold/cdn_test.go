package gold

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cdnLog is a CDN edge's access log in the tab-separated format of
// cdnLogFields (testdata/cdn/README.md).
const cdnLog = "testdata/cdn/edge.tsv"

// cdnLogFields is the log's declaration (config access_log_formats tsv),
// nginx variable names.
var cdnLogFields = []string{"time_iso8601", "host", "remote_addr", "request_method", "request_uri", "server_protocol", "status",
	"request_length", "bytes_sent", "body_bytes_sent", "upstream_bytes_received", "upstream_cache_status", "request_time", "http_user_agent"}

// cdnMinute is one row of gold.cdn_bandwidth as computed from the log
// lines alone, without weir's parser or SQL.
type cdnMinute struct {
	Minute                                     time.Time
	Client                                     string
	Requests, CacheHits                        int64
	UserEdge, EdgeOrigin, OriginEdge, EdgeUser int64
}

// Line is the row as the test prints the view's rows (queryLinesFloats
// with cdnFloat).
func (m cdnMinute) Line() string {
	return strings.Join([]string{m.Minute.UTC().Format(time.DateTime), m.Client, fmt.Sprint(m.Requests), fmt.Sprint(m.CacheHits),
		cdnFloat(float64(m.CacheHits) / float64(m.Requests)),
		fmt.Sprint(m.UserEdge), fmt.Sprint(m.EdgeOrigin), fmt.Sprint(m.OriginEdge), fmt.Sprint(m.EdgeUser)}, "|")
}

// cdnAnswers computes the CDN bandwidth per UTC minute and virtual host
// from log lines in cdnLogFields' layout, following issue 17's wording:
// bytes user→edge are request_length; edge→origin request_length of
// requests whose cache status is not HIT or UPDATING; origin→edge
// upstream_bytes_received with its ", " and " : " lists summed and "-"
// as 0; edge→user bytes_sent. Sorted by minute, then client.
func cdnAnswers(lines []string) ([]cdnMinute, error) {
	col := map[string]int{}
	for i, f := range cdnLogFields {
		col[f] = i
	}
	num := func(s string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(s), 10, 64) }
	type key struct {
		minute time.Time
		client string
	}
	acc := map[key]*cdnMinute{}
	for n, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != len(cdnLogFields) {
			return nil, fmt.Errorf("line %d: %d fields, want %d", n+1, len(f), len(cdnLogFields))
		}
		ts, err := time.Parse(time.RFC3339, f[col["time_iso8601"]])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		client := strings.ToLower(f[col["host"]])
		if client == "" {
			client = "-"
		}
		reqLen, err1 := num(f[col["request_length"]])
		sent, err2 := num(f[col["bytes_sent"]])
		if err := cmpOr(err1, err2); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		var upstream int64
		for _, part := range strings.FieldsFunc(f[col["upstream_bytes_received"]], func(r rune) bool { return r == ',' || r == ':' }) {
			if strings.TrimSpace(part) == "-" {
				continue
			}
			v, err := num(part)
			if err != nil {
				return nil, fmt.Errorf("line %d: upstream_bytes_received: %w", n+1, err)
			}
			upstream += v
		}
		cache := f[col["upstream_cache_status"]]
		hit := cache == "HIT" || cache == "UPDATING"

		k := key{ts.UTC().Truncate(time.Minute), client}
		m := acc[k]
		if m == nil {
			m = &cdnMinute{Minute: k.minute, Client: k.client}
			acc[k] = m
		}
		m.Requests++
		m.UserEdge += reqLen
		if hit {
			m.CacheHits++
		} else {
			m.EdgeOrigin += reqLen
		}
		m.OriginEdge += upstream
		m.EdgeUser += sent
	}
	var out []cdnMinute
	for _, m := range acc {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b cdnMinute) int {
		if c := a.Minute.Compare(b.Minute); c != 0 {
			return c
		}
		return strings.Compare(a.Client, b.Client)
	})
	return out, nil
}

func cmpOr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func readLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestCDNAnswers checks the independent computation on hand-made lines,
// and that the committed log exercises every case the rollup handles.
func TestCDNAnswers(t *testing.T) {
	ua := "curl/8.5.0"
	lines := []string{
		"2026-12-01T00:59:59+01:00\tStatic.Example.NET\t192.0.2.7\tGET\t/a.css\tHTTP/2.0\t200\t500\t1400\t1000\t512, 1024 : 8\tMISS\t0.084\t" + ua,
		"2026-11-30T23:59:01+00:00\tstatic.example.net\t192.0.2.8\tGET\t/a.css\tHTTP/2.0\t200\t300\t1400\t1000\t-\tHIT\t0.000\t" + ua,
		"2026-11-30T23:59:30Z\tstatic.example.net\t192.0.2.9\tGET\t/a.css\tHTTP/2.0\t200\t200\t1400\t1000\t-, 700\tUPDATING\t0.000\t" + ua,
		"2026-12-01T00:00:00Z\tstatic.example.net\t192.0.2.9\tGET\t/a.css\tHTTP/2.0\t200\t100\t90\t0\t-\t-\t0.000\t" + ua,
	}
	got, err := cdnAnswers(lines)
	if err != nil {
		t.Fatal(err)
	}
	var gotLines []string
	for _, m := range got {
		gotLines = append(gotLines, m.Line())
	}
	want := []string{
		"2026-11-30 23:59:00|static.example.net|3|2|0.6666666666666666|1000|500|2244|4200",
		"2026-12-01 00:00:00|static.example.net|1|0|0|100|100|0|90",
	}
	if !slices.Equal(gotLines, want) {
		t.Errorf("cdnAnswers:\n got %q\nwant %q", gotLines, want)
	}

	lines = readLines(t, cdnLog)
	all, err := cdnAnswers(lines)
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]bool{}
	for _, m := range all {
		days[m.Minute.Format(time.DateOnly)] = true
	}
	log := strings.Join(lines, "\n")
	for _, s := range []string{"\tHIT\t", "\tMISS\t", "\tUPDATING\t", "\t-\t0", ", ", " : ", "\t-\tHIT", "-, ", "+01:00\t"} {
		if !strings.Contains(log, s) {
			t.Errorf("%s has no %q: the test log does not exercise it", cdnLog, s)
		}
	}
	if len(days) != 2 {
		t.Errorf("%s spans %d UTC days, want 2 (a refresh across midnight)", cdnLog, len(days))
	}
}

// cdnFloat prints a double in full, so the ratio compared is the very
// double Trino computed.
func cdnFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
