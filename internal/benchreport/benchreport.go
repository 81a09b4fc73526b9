// Package benchreport renders the README's Performance table from the
// benchmark results in bench/results/*.json, so no figure there is typed by
// hand: each row names the file and the JSON fields it shows, and carries
// the machine (CPUs, load average) and date the file records. A field
// that is missing fails the report instead of printing a stale number.
// Writers of results files use ThisMachine and WriteJSON.
package benchreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Figure is one row: What is measured, File (under the results directory)
// holds it, Show is a format whose {dotted.path} or {dotted.path|%.1f}
// placeholders are filled from the file; Anchor is a target or comparison
// printed beside it.
type Figure struct {
	What, File, Show, Anchor string
}

// Figures are the rows of the README's Performance table.
var Figures = []Figure{
	{"`weir generate` → Kafka", "generate.json", "{records|%.0f} records at {records_per_sec|%.0f} records/s ({mb_per_sec|%.0f} MB/s)", "≥ 200k/s"},
	{"`weir stream` Kafka → bronze, 1M × ~300 B", "bronze.json", "{msgs_per_sec|%.0f} msg/s, {cpu_seconds_per_1m|%.1f} CPU s per million; freshness p50 {freshness_p50_s|%.1f} s, p95 {freshness_p95_s|%.1f} s", "≥ 100k msg/s, p95 ≤ 10 s"},
	{"same run: weir stream vs Iceberg's Kafka Connect sink (`make bench-peer`, generator's mix, medians of 2 rounds each)", "peer.json",
		"weir {medians.weir.msgs_per_sec|%.0f} msg/s, {medians.weir.cpu_seconds_per_1m|%.1f} CPU s/1M, {medians.weir.peak_rss_mb|%.0f} MB RSS, {medians.weir.data_files|%.0f} files; " +
			"sink {medians.peer.msgs_per_sec|%.0f} msg/s, {medians.peer.cpu_seconds_per_1m|%.1f} CPU s/1M, {medians.peer.peak_rss_mb|%.0f} MB RSS, {medians.peer.data_files|%.0f} files; " +
			"weir/sink: throughput ×{ratios_weir_peer.msgs_per_sec|%.2f}, CPU per record ×{ratios_weir_peer.cpu_seconds_per_1m|%.2f}, RSS ×{ratios_weir_peer.peak_rss_mb|%.2f}", "ratio > 1: weir has more of it"},
	{"same run: weir stream vs the sink after kill -9 mid-load and a restart (`make bench-peer`)", "peer.json",
		"weir {live.0.stored|%.0f} of {live.0.produced|%.0f} stored, {live.0.duplicates|%.0f} duplicates, {live.0.missing|%.0f} missing; sink {live.1.stored|%.0f} of {live.1.produced|%.0f}, {live.1.duplicates|%.0f} duplicates, {live.1.missing|%.0f} missing; freshness p50/p95 at {live.0.freshness_load_msg_s|%.0f} msg/s: weir {live.0.freshness_p50_s|%.1f}/{live.0.freshness_p95_s|%.1f} s ({live.0.freshness_probes} probes), sink {live.1.freshness_p50_s|%.1f}/{live.1.freshness_p95_s|%.1f} s ({live.1.freshness_probes} probes seen)", "0 duplicates, 0 missing"},
	{"bronze → silver", "silver.json", "{bronze_to_silver.rows_per_second|%.0f} rows/s, {bronze_to_silver.cpu_seconds_per_million|%.1f} CPU s per million rows", "≥ 150k rows/s"},
	{"same run: `weir batch silver` vs a Trino `CREATE TABLE … AS SELECT` (regexp_extract, json_extract_scalar)", "silver-trino.json",
		"access logs: weir {sources.access_logs.weir.bronze_rows_per_second|%.0f} rows/s, SQL {sources.access_logs.trino_sql.bronze_rows_per_second|%.0f} rows/s (×{sources.access_logs.ratio_rows_per_second_weir_trino|%.1f}), CPU per row ×{sources.access_logs.ratio_cpu_per_row_weir_trino|%.2f}; " +
			"events: weir {sources.events.weir.bronze_rows_per_second|%.0f}, SQL {sources.events.trino_sql.bronze_rows_per_second|%.0f} rows/s (×{sources.events.ratio_rows_per_second_weir_trino|%.1f}), CPU per row ×{sources.events.ratio_cpu_per_row_weir_trino|%.2f}; rows only in the SQL's output {sources.access_logs.rows_only_in_trino_sql|%.0f} + {sources.events.rows_only_in_trino_sql|%.0f}, only in weir's {sources.access_logs.rows_only_in_weir|%.0f} + {sources.events.rows_only_in_weir|%.0f}", "—"},
	{"scale-out: 1, 2 and 3 `weir stream` instances in one consumer group (`make bench-scaleout`, cluster profile, 1M records of the generator's mix, 24 partitions)", "scaleout.json",
		"{steps.0.msgs_per_sec|%.0f} / {steps.1.msgs_per_sec|%.0f} / {steps.2.msgs_per_sec|%.0f} msg/s, {steps.0.cpu_seconds_per_1m|%.1f} / {steps.1.cpu_seconds_per_1m|%.1f} / {steps.2.cpu_seconds_per_1m|%.1f} CPU s per million (all instances); " +
			"commit conflicts {steps.0.commit_conflicts} / {steps.1.commit_conflicts} / {steps.2.commit_conflicts}, fence drops {steps.0.fence_drops} / {steps.1.fence_drops} / {steps.2.fence_drops}; " +
			"duplicates {steps.0.duplicates} / {steps.1.duplicates} / {steps.2.duplicates}, missing {steps.0.missing} / {steps.1.missing} / {steps.2.missing}", "0 duplicates, 0 missing"},
	{"compaction under a 1M-message stream", "maintain.json", "bronze {data_files.bronze_committed_by_stream|%.0f} files → {data_files.bronze_after_final_compaction|%.0f}, {compaction.rewritten_mib|%.0f} MiB rewritten, exact: {bronze.exact}", "—"},
	{"event → gold view freshness, silver in follow mode (`make bench-freshness`: `weir batch silver --follow --gold`, interval 10 s, every rollup refreshed)", "freshness-gold.json",
		"at {achieved_rate_records_s|%.0f} records/s: gold.events (view over silver) p50 {views.gold.events.freshness_p50_s|%.1f} s, p95 {views.gold.events.freshness_p95_s|%.1f} s; gold.event_counts_15m (view over a rollup) p50 {views.gold.event_counts_15m.freshness_p50_s|%.1f} s, p95 {views.gold.event_counts_15m.freshness_p95_s|%.1f} s; gold refresh of every rollup p50 {gold_refresh_p50_s|%.1f} s, p95 {gold_refresh_p95_s|%.1f} s", "p95 ≤ 60 s at 5k events/s"},
	{"gold dashboard queries, 10.4M silver rows", "gold.json", "alone p50 {alone.p50_ms|%.0f} ms, p95 {alone.p95_ms|%.0f} ms; under load (4 clients, ingesting {under_load.ingested_records_per_s|%.0f} records/s as follow mode does) p50 {under_load.p50_ms|%.0f} ms, p95 {under_load.p95_ms|%.0f} ms", "p95 ≤ 1.5 s"},
	{"`weir load`, 4 clients", "load.json", "p50 {total.p50_ms|%.0f} ms, p95 {total.p95_ms|%.0f} ms, {queries_per_second|%.1f} queries/s", "—"},
	{"alert quality vs generator ground truth (engine alone)", "alerts-quality.json", "{overall.incidents|%.0f} incidents: recall {overall.recall|%.2f}, precision {overall.precision|%.2f}, median coverage {overall.median_coverage|%.2f}", "recall, precision ≥ 0.95"},
	{"alert latency (window end → Alertmanager)", "alerts.json", "p50 {latency.p50_seconds|%.1f} s, p95 {latency.p95_seconds|%.1f} s", "≤ 5 s"},
}

// Optional figures appear once their results file exists (benchmarks
// that have not been run on this machine yet).
var Optional = map[string]bool{"silver-trino.json": true, "scaleout.json": true, "freshness-gold.json": true}

// Table renders figs from the JSON files in dir as a Markdown table.
func Table(dir string, figs []Figure) (string, error) {
	var b strings.Builder
	b.WriteString("| what | measured | anchor | machine, load average (1 min), date | file |\n|---|---|---|---|---|\n")
	for _, f := range figs {
		raw, err := os.ReadFile(filepath.Join(dir, f.File))
		if os.IsNotExist(err) && Optional[f.File] {
			continue
		}
		if err != nil {
			return "", err
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return "", fmt.Errorf("%s: %w", f.File, err)
		}
		shown, err := Fill(f.Show, doc)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.File, err)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", f.What, shown, f.Anchor, Machine(doc), f.File)
	}
	return b.String(), nil
}

// Fill replaces each {path} or {path|format} in show with the value at
// path in doc.
func Fill(show string, doc any) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(show, '{')
		if i < 0 {
			b.WriteString(show)
			return b.String(), nil
		}
		j := strings.IndexByte(show[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unclosed { in %q", show)
		}
		b.WriteString(show[:i])
		path, format, _ := strings.Cut(show[i+1:i+j], "|")
		v, ok := Get(doc, path)
		if !ok {
			return "", fmt.Errorf("no field %s", path)
		}
		if format == "" {
			format = "%v"
		}
		fmt.Fprintf(&b, format, v)
		show = show[i+j+1:]
	}
}

// Get is the value at a dotted path of a decoded JSON document; a key may
// itself contain dots (table names), so the longest key that matches wins.
func Get(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	parts := strings.Split(path, ".")
	if l, ok := doc.([]any); ok {
		i, err := strconv.Atoi(parts[0])
		if err != nil || i < 0 || i >= len(l) {
			return nil, false
		}
		return Get(l[i], strings.Join(parts[1:], "."))
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	for n := len(parts); n > 0; n-- {
		if v, ok := m[strings.Join(parts[:n], ".")]; ok {
			if r, ok := Get(v, strings.Join(parts[n:], ".")); ok {
				return r, true
			}
		}
	}
	return nil, false
}

// Machine is "N CPUs, load L, YYYY-MM-DD" from the fields the results files
// use for them.
func Machine(doc any) string {
	cpus, load, date := "?", "?", "?"
	for _, p := range []string{"machine.cpus"} {
		if v, ok := Get(doc, p); ok {
			cpus = fmt.Sprint(v)
		}
	}
	for _, p := range []string{"machine.loadavg", "machine.loadavg_at_end", "machine.loadavg_end", "machine.loadavg_start"} {
		if v, ok := Get(doc, p); ok {
			if f := strings.Fields(fmt.Sprint(v)); len(f) > 0 {
				load = f[0]
				break
			}
		}
	}
	for _, p := range []string{"measured_at", "started", "latency.measured_at", "machine.date"} {
		if v, ok := Get(doc, p); ok {
			if s := fmt.Sprint(v); len(s) >= 10 {
				date = s[:10]
				break
			}
		}
	}
	if _, err := strconv.Atoi(cpus); err == nil {
		cpus += " CPUs"
	}
	return fmt.Sprintf("%s, load %s, %s", cpus, load, date)
}

// Splice puts table into doc between the lines "<!-- name:begin -->" and
// "<!-- name:end -->".
func Splice(doc []byte, name, table string) ([]byte, error) {
	begin, end := []byte("<!-- "+name+":begin -->\n"), []byte("<!-- "+name+":end -->")
	i, j := bytes.Index(doc, begin), bytes.Index(doc, end)
	if i < 0 || j < i {
		return nil, fmt.Errorf("no %q ... %q section", begin, end)
	}
	return append(append(append([]byte{}, doc[:i+len(begin)]...), table...), doc[j:]...), nil
}

// WriteSection splices table into the file readme (see Splice).
func WriteSection(readme, name, table string) error {
	doc, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	out, err := Splice(doc, name, table)
	if err != nil {
		return fmt.Errorf("%s: %w", readme, err)
	}
	return os.WriteFile(readme, out, 0o644)
}

// ThisMachine describes where a benchmark runs, as the results files
// record it (cpus, goos, goarch, go, host and, on Linux, loadavg).
func ThisMachine() map[string]any {
	host, _ := os.Hostname()
	m := map[string]any{"cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(), "host": host}
	// Shared machines: the load next to the figure says what it competed with.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["loadavg"] = strings.TrimSpace(string(b))
	}
	return m
}

// WriteJSON writes v, indented, as a results file.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
