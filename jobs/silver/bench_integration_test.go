//go:build integration && bench

package silver_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"weir/jobs/generate"
	"weir/jobs/maintain"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// BenchmarkSilver measures bronze → silver throughput and CPU, and bronze
// compaction throughput, on the local stack, and writes
// bench/results/silver.json (make bench).
func BenchmarkSilver(b *testing.B) {
	env := silvertest.New(b)
	ctx := context.Background()
	end := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(b, end.Add(-50*time.Minute), end, 100, generate.DefaultFaults)
	const commits = 40
	step := len(recs)/commits + 1
	for i := 0; i < len(recs); i += step {
		env.LoadBronze(b, recs[i:min(i+step, len(recs))], time.Now())
	}

	b.ResetTimer()
	cpu0, wall0 := cpuSeconds(), time.Now()
	res, err := silver.New(env.Lake, silver.Config{Namespaces: env.NS}).Run(ctx, silver.SourceAll)
	wall, cpu := time.Since(wall0).Seconds(), cpuSeconds()-cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	var rows, bronzeRows int64
	for _, r := range res {
		rows += r.Rows + r.Rejects
		bronzeRows += r.BronzeRows
	}

	files := map[string]int{}
	for _, t := range []string{lakehouse.BronzeWebAccess, lakehouse.BronzeAppEvents, lakehouse.BronzeAppLogs} {
		files[t] = env.Files(b, env.NS.Table(t))
	}
	cwall0 := time.Now()
	reps, err := maintain.New(env.Lake, maintain.Config{Namespaces: env.NS, Ops: []string{maintain.OpCompact},
		Tables: []string{lakehouse.BronzeWebAccess, lakehouse.BronzeAppEvents, lakehouse.BronzeAppLogs}}).Run(ctx)
	cwall := time.Since(cwall0).Seconds()
	if err != nil {
		b.Fatal(err)
	}
	var cfiles int
	var cbytes int64
	after := map[string]int{}
	for _, r := range reps {
		cfiles += r.RewrittenFiles
		cbytes += r.RewrittenBytes
		after[r.Table] = r.FilesAfter
	}
	var cRows int64
	for _, t := range []string{"web.access", "app.events", "app.logs"} {
		cRows += sum.Topics[t].Produced
	}

	out := map[string]any{
		"measured_at": time.Now().UTC(),
		"machine":     map[string]any{"cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "note": "shared 2-core machine, stack (Kafka, MinIO, PostgreSQL, Trino) on the same host"},
		"input":       map[string]any{"records": len(recs), "bronze_commits": commits, "faults": sum.FaultCounts},
		"bronze_to_silver": map[string]any{
			"bronze_rows":             bronzeRows,
			"silver_rows_and_rejects": rows,
			"wall_seconds":            wall,
			"rows_per_second":         float64(bronzeRows) / wall,
			"cpu_seconds":             cpu,
			"cpu_seconds_per_million": cpu / float64(bronzeRows) * 1e6,
			"target_rows_per_second":  150000,
		},
		"compaction": map[string]any{
			"tables":          []string{lakehouse.BronzeWebAccess, lakehouse.BronzeAppEvents, lakehouse.BronzeAppLogs},
			"files_before":    files,
			"files_after":     after,
			"rewritten_files": cfiles,
			"rewritten_bytes": cbytes,
			"rows":            cRows,
			"wall_seconds":    cwall,
			"rows_per_second": float64(cRows) / cwall,
			"mib_per_second":  float64(cbytes) / (1 << 20) / cwall,
		},
	}
	b.ReportMetric(float64(bronzeRows)/wall, "rows/s")
	data, _ := json.MarshalIndent(out, "", "  ")
	dir := filepath.Join("..", "..", "bench", "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "silver.json"), append(data, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", data)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
