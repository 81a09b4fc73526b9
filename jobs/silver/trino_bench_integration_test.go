//go:build integration && bench

package silver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
	"weir/trino"
)

// BenchmarkSilverVsTrino builds silver.access_logs and silver.events from
// one bronze snapshot twice: with weir batch silver (the Go parsers, in
// this process) and with the SQL a Trino user would schedule instead
// (bench/trino-silver/*.sql: regexp_extract, json_extract_scalar), and
// compares rows/s and CPU (this process's for weir, the Trino server's
// for the SQL, both from the kernel). A checksum query over the columns
// both produce, and EXCEPT ALL both ways, shows where they differ; the SQL
// files say which differences are deliberate. Writes
// bench/results/silver-trino.json (make bench).
func BenchmarkSilverVsTrino(b *testing.B) {
	env := silvertest.New(b)
	ctx := context.Background()
	end := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	minutes := 50
	if testing.Short() {
		minutes = 10
	}
	recs, sum := silvertest.Generate(b, end.Add(-time.Duration(minutes)*time.Minute), end, 100, generate.DefaultFaults)
	const commits = 20
	step := len(recs)/commits + 1
	for i := 0; i < len(recs); i += step {
		env.LoadBronze(b, recs[i:min(i+step, len(recs))], time.Now())
	}
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := stacktest.Stack(b)
	trinoPid, err := st.ServicePid("trino")
	if err != nil || trinoPid == 0 {
		b.Fatalf("trino pid: %d, %v", trinoPid, err)
	}
	// Trino's storage user writes only under the gold namespace (least
	// privilege), so the SQL's tables go there, named after this run.
	sqlPrefix := lakehouse.Gold + "." + strings.TrimSuffix(env.NS.Silver, "_silver") + "_trinosilver_"

	job := silver.New(env.Lake, silver.Config{Namespaces: env.NS})
	if _, err := job.Run(ctx, silver.SourceDims); err != nil {
		b.Fatal(err)
	}
	type side struct {
		Rows          int64   `json:"rows"`
		BronzeRows    int64   `json:"bronze_rows"`
		WallSeconds   float64 `json:"wall_seconds"`
		CPUSeconds    float64 `json:"cpu_seconds"`
		RowsPerSecond float64 `json:"bronze_rows_per_second"`
		CPUPerMillion float64 `json:"cpu_seconds_per_million_bronze_rows"`
		LoadAvg       string  `json:"loadavg"`
	}
	type comparison struct {
		Weir          side    `json:"weir"`
		Trino         side    `json:"trino_sql"`
		SQLFile       string  `json:"sql_file"`
		Columns       string  `json:"compared_columns"`
		ChecksumWeir  string  `json:"checksum_weir"`
		ChecksumTrino string  `json:"checksum_trino_sql"`
		OnlyWeir      int64   `json:"rows_only_in_weir"`
		OnlyTrino     int64   `json:"rows_only_in_trino_sql"`
		SameRows      bool    `json:"same_rows"`
		ThroughputWT  float64 `json:"ratio_rows_per_second_weir_trino"`
		CPUWT         float64 `json:"ratio_cpu_per_row_weir_trino"`
	}
	cases := []struct {
		source, bronze, silverTbl, sqlFile, short string
		cols                                      string
	}{
		{silver.SourceWebAccess, lakehouse.BronzeWebAccess, lakehouse.SilverAccessLogs, "access_logs.sql", "access_logs",
			`source_partition, source_offset, event_ts, client_ip, ident, "user", method, path, protocol, status, status_class, bytes, referrer, user_agent, round(request_time_ms, 3), cache_status, is_static_file`},
		{silver.SourceAppEvents, lakehouse.BronzeAppEvents, lakehouse.SilverEvents, "events.sql", "events",
			`event_id, action_id, event_ts, service, host, user_id, session_id, type, page, item, provider, amount, currency, status, attempt, duration_ms, order_id`},
	}
	results := map[string]comparison{}
	b.ResetTimer()
	for _, c := range cases {
		var cmp comparison
		cmp.SQLFile = "bench/trino-silver/" + c.sqlFile
		cmp.Columns = c.cols
		bronze := env.NS.Table(c.bronze)

		load0 := loadavg()
		cpu0, wall0 := cpuSeconds(), time.Now()
		res, err := job.Run(ctx, c.source)
		if err != nil {
			b.Fatal(err)
		}
		cmp.Weir = side{WallSeconds: time.Since(wall0).Seconds(), CPUSeconds: cpuSeconds() - cpu0, LoadAvg: load0}
		for _, r := range res {
			cmp.Weir.Rows += r.Rows
			cmp.Weir.BronzeRows += r.BronzeRows
		}

		raw, err := os.ReadFile(filepath.Join("..", "..", "bench", "trino-silver", c.sqlFile))
		if err != nil {
			b.Fatal(err)
		}
		target := sqlPrefix + c.short
		b.Cleanup(func() { _ = trino.Exec(context.Background(), db, "DROP TABLE IF EXISTS "+target) })
		stmt := strings.NewReplacer("{{bronze}}", bronze, "{{target}}", target).Replace(string(raw))
		stmts := trino.SplitStatements(stmt)
		load0 = loadavg()
		tcpu0, wall0 := procCPU(trinoPid), time.Now()
		for _, s := range stmts {
			if err := trino.Exec(ctx, db, s); err != nil {
				b.Fatalf("%s: %v", c.sqlFile, err)
			}
		}
		cmp.Trino = side{WallSeconds: time.Since(wall0).Seconds(), CPUSeconds: procCPU(trinoPid) - tcpu0, LoadAvg: load0, BronzeRows: cmp.Weir.BronzeRows}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+target).Scan(&cmp.Trino.Rows); err != nil {
			b.Fatal(err)
		}
		for _, s := range []*side{&cmp.Weir, &cmp.Trino} {
			s.RowsPerSecond = float64(s.BronzeRows) / s.WallSeconds
			s.CPUPerMillion = s.CPUSeconds / float64(s.BronzeRows) * 1e6
		}
		cmp.ThroughputWT = cmp.Weir.RowsPerSecond / cmp.Trino.RowsPerSecond
		cmp.CPUWT = cmp.Weir.CPUPerMillion / cmp.Trino.CPUPerMillion

		goTbl := env.NS.Table(c.silverTbl)
		check := func(tbl string) string {
			var v string
			q := fmt.Sprintf("SELECT to_hex(checksum(ROW(%s))) FROM %s", c.cols, tbl)
			if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
			return v
		}
		cmp.ChecksumWeir, cmp.ChecksumTrino = check(goTbl), check(target)
		except := func(a, z string) int64 {
			var n int64
			q := fmt.Sprintf("SELECT count(*) FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s)", c.cols, a, c.cols, z)
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
			return n
		}
		cmp.OnlyWeir, cmp.OnlyTrino = except(goTbl, target), except(target, goTbl)
		cmp.SameRows = cmp.OnlyWeir == 0 && cmp.OnlyTrino == 0 && cmp.ChecksumWeir == cmp.ChecksumTrino
		results[c.short] = cmp
		b.Logf("%s: weir %.0f rows/s %.1f CPU s/M; trino sql %.0f rows/s %.1f CPU s/M; only weir %d, only sql %d",
			c.short, cmp.Weir.RowsPerSecond, cmp.Weir.CPUPerMillion, cmp.Trino.RowsPerSecond, cmp.Trino.CPUPerMillion, cmp.OnlyWeir, cmp.OnlyTrino)
	}
	b.StopTimer()

	out := map[string]any{
		"benchmark":   "silver_vs_trino_sql",
		"measured_at": time.Now().UTC(),
		"machine": map[string]any{"cpus": runtime.NumCPU(), "loadavg": loadavg(),
			"note": "shared 2-core machine; Trino is the local stack's single node (JVM already warm from the stack's start-up queries); weir's CPU is this process's (rusage), Trino's its server process's (/proc/PID/stat), each over its own run"},
		"input":           map[string]any{"records": len(recs), "bronze_commits": commits, "faults": sum.FaultCounts, "minutes_of_traffic": minutes},
		"sources":         results,
		"difference_note": "rows_only_in_* count rows of one side missing from the other over the compared columns (EXCEPT ALL); the SQL files' headers list the deliberate differences (truncated lines, escaped quotes, percent-encoded targets, non-UTF-8 and invalid values that weir rejects or keeps and the SQL does the other way)",
	}
	data, _ := json.MarshalIndent(out, "", "  ")
	// One file whatever the size: it records its input (minutes, records).
	if err := os.WriteFile(filepath.Join("..", "..", "bench", "results", "silver-trino.json"), append(data, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", data)
}

// procCPU is the user+system CPU seconds of a process (another one's).
func procCPU(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var u, k float64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &k)
	return (u + k) / 100 // USER_HZ
}
