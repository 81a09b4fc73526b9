//go:build integration

package gold

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/events"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/trino"
)

// TestCDNBandwidth loads a CDN edge's log (testdata/cdn/edge.tsv, a
// declared tab-separated format with cache status, request and response
// sizes and upstream byte lists) into bronze web.access, builds silver with
// the declared format, refreshes the cdn_minute rollup and reads
// gold.cdn_bandwidth through Trino: every row (minute, virtual host,
// requests, cache hits and ratio, bytes user→edge, edge→origin,
// origin→edge, edge→user) must equal cdnAnswers' computation over the
// log lines. The log is loaded in two parts with a refresh after each, the
// second reaching back into minutes and the day the first refresh built,
// so the incremental refresh is what is checked the second time. A third
// part in the default log format checks what a format without the CDN
// variables gives: client "-" and null sizes.
//
// Isolation: silvertest's namespaces and gold_<prefix>, dropped at the end.
//
// Run: source .stack/env.sh && go test -tags integration -run TestCDNBandwidth ./jobs/gold/
func TestCDNBandwidth(t *testing.T) {
	ctx := context.Background()
	lines := readLines(t, cdnLog)
	env := silvertest.New(t)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessLogFormats = map[string]config.AccessLogFormat{events.TopicWebAccess: {TSV: cdnLogFields}}
	formats, err := cfg.AccessFormats()
	if err != nil {
		t.Fatal(err)
	}
	db := openTrino(t, cfg)
	goldSchema := "gold_" + strings.TrimSuffix(env.NS.Silver, "_silver")
	target := Target{Catalog: cfg.Trino.Catalog, Schemas: map[string]string{
		"bronze": env.NS.Bronze, "silver": env.NS.Silver, "archive": env.NS.Archive, "gold": goldSchema,
	}}
	t.Cleanup(func() { dropSchema(t, db, cfg.Trino.Catalog, goldSchema) })
	if err := EnsureSources(ctx, env.Lake, target); err != nil {
		t.Fatal(err)
	}
	defs := cdnDefs(t)
	runner := &Runner{DB: db, Target: target}
	if _, err := runner.Apply(ctx, defs); err != nil {
		t.Fatalf("apply: %v", err)
	}

	// The second part must update rows the first refresh wrote (same
	// minute and host), not only add new ones.
	split := len(lines) * 2 / 3
	first, err := cdnAnswers(lines[:split])
	if err != nil {
		t.Fatal(err)
	}
	second, err := cdnAnswers(lines[split:])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(second, func(m cdnMinute) bool {
		return slices.ContainsFunc(first, func(f cdnMinute) bool { return f.Minute.Equal(m.Minute) && f.Client == m.Client })
	}) {
		t.Fatalf("%s split at line %d: no minute and host in both parts", cdnLog, split)
	}
	// Last, lines in the default format (no host, no request or upstream
	// sizes, no bytes_sent): client "-", the sizes null, edge→user the body
	// bytes ("-" not counted).
	plain := []string{
		`203.0.113.9 - - [01/Dec/2026:01:10:05 +0100] "GET /img/a.png HTTP/1.1" 200 2326 "-" "curl/8.5.0" 0.000 HIT`,
		`203.0.113.9 - - [01/Dec/2026:01:10:40 +0100] "GET /img/b.png HTTP/1.1" 200 1000 "-" "curl/8.5.0" 0.120 MISS`,
		`203.0.113.10 - - [01/Dec/2026:00:10:59 +0000] "GET /img/c.png HTTP/1.1" 304 - "-" "curl/8.5.0" 0.020 -`,
	}
	plainRow := "2026-12-01 00:10:00|-|3|1|0.3333333333333333|NULL|NULL|NULL|3326"
	parts := []struct {
		lines   []string
		formats map[string]*events.AccessFormat
		seen    int      // lines of the CDN log in silver after the part
		extra   []string // rows of the default-format lines
	}{
		{lines[:split], formats, split, nil},
		{lines[split:], formats, len(lines), nil},
		{plain, nil, len(lines), []string{plainRow}},
	}
	for i, part := range parts {
		var recs []silvertest.Record
		for _, l := range part.lines {
			recs = append(recs, silvertest.Record{Topic: events.TopicWebAccess, Value: []byte(l)})
		}
		env.LoadBronze(t, recs, time.Now())
		res, err := silver.New(env.Lake, silver.Config{Namespaces: env.NS, AccessFormats: part.formats}).Run(ctx, silver.SourceWebAccess)
		if err != nil {
			t.Fatalf("silver: %v", err)
		}
		var rows, rejects int64
		for _, r := range res {
			rows, rejects = rows+r.Rows, rejects+r.Rejects
		}
		if rows != int64(len(part.lines)) || rejects != 0 {
			t.Fatalf("part %d: silver took %d rows and %d rejects, want %d rows", i+1, rows, rejects, len(part.lines))
		}
		results, err := runner.Refresh(ctx, defs)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if i > 0 && (len(results) != 1 || results[0].Change != Refreshed) {
			t.Errorf("part %d: refresh %+v, want cdn_minute refreshed incrementally", i+1, results)
		}

		want, err := cdnAnswers(lines[:part.seen])
		if err != nil {
			t.Fatal(err)
		}
		var wantLines []string
		for _, m := range want {
			wantLines = append(wantLines, m.Line())
		}
		wantLines = append(wantLines, part.extra...) // the default-format minute is the last
		got := queryLinesFloats(t, db, fmt.Sprintf(`SELECT minute, client, requests, cache_hits, cache_hit_ratio,
  bytes_user_edge, bytes_edge_origin, bytes_origin_edge, bytes_edge_user
FROM %s.cdn_bandwidth ORDER BY minute, client`, trino.Ident(goldSchema)), cdnFloat)
		if !slices.Equal(got, wantLines) {
			t.Errorf("part %d: gold.cdn_bandwidth and the log disagree\n%s", i+1, diff(got, wantLines))
		}
		t.Logf("part %d: %d lines, %d minute×client rows agree", i+1, len(part.lines), len(got))
	}
}

// cdnDefs are the CDN rollup and view.
func cdnDefs(t *testing.T) []*Definition {
	t.Helper()
	defs := prefixDefs(t, "cdn_")
	if len(defs) != 2 {
		t.Fatalf("cdn definitions: %d, want the rollup and the view", len(defs))
	}
	return defs
}
