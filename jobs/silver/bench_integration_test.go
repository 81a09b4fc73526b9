//go:build integration && bench

package silver_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

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

	// Silver is built from the same bronze input several times, each time
	// into silver tables of its own: the machine is shared, so one run's
	// wall time says as much about the neighbours as about the job. The
	// CPU profile covers the first silver run only (not generation nor the
	// bronze load), so its top entries say where a run's time goes.
	profPath := os.Getenv("WEIR_SILVER_CPUPROFILE")
	if profPath == "" {
		profPath = filepath.Join(b.TempDir(), "silver.cpu.pprof")
	}
	const silverRuns = 3
	var runs []silverRun
	b.ResetTimer()
	for i := range silverRuns {
		ns := env.NS
		if i > 0 {
			ns.Silver = fmt.Sprintf("%s_r%d", env.NS.Silver, i)
			createNamespace(b, env.Lake, ns.Silver)
		}
		runs = append(runs, measureSilver(b, env.Lake, ns, profPath, i == 0))
	}
	b.StopTimer()
	med := medianRun(runs)
	bronzeRows, rows := med.BronzeRows, med.Rows

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
		"machine": map[string]any{"cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(),
			"note": "shared 2-core machine: the stack (Kafka, MinIO, PostgreSQL, Trino) and other engineers' builds and tests run on it too, so wall time varies with the load (each run records the load average and the time its threads waited for a CPU); CPU seconds per million rows is the steadier figure"},
		"input": map[string]any{"records": len(recs), "bronze_commits": commits, "faults": sum.FaultCounts},
		"bronze_to_silver": map[string]any{
			"bronze_rows":             bronzeRows,
			"silver_rows_and_rejects": rows,
			"runs":                    runs,
			"median_of":               len(runs),
			"wall_seconds":            med.WallSeconds,
			"rows_per_second":         med.RowsPerSecond,
			"cpu_seconds":             med.CPUSeconds,
			"cpu_seconds_per_million": med.CPUPerMillion,
			"target_rows_per_second":  150000,
			"cpu_profile":             "first run only; shares are cumulative (go tool pprof -top -cum) and overlap; WEIR_SILVER_CPUPROFILE keeps the file",
			"cpu_profile_cum":         profileShares(profPath),
			"cpu_profile_top_flat":    profileTop(profPath, 15),
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
	b.ReportMetric(med.RowsPerSecond, "rows/s")
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

// silverRun is one measured silver run (every source).
type silverRun struct {
	BronzeRows    int64   `json:"bronze_rows"`
	Rows          int64   `json:"silver_rows_and_rejects"`
	WallSeconds   float64 `json:"wall_seconds"`
	RowsPerSecond float64 `json:"rows_per_second"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	CPUPerMillion float64 `json:"cpu_seconds_per_million"`
	// RunQueueWait is how long the process's threads waited for a CPU
	// during the run, summed over threads (/proc/self/task/*/schedstat).
	RunQueueWait float64 `json:"run_queue_wait_seconds"`
	LoadBefore   string  `json:"loadavg_before"`
	LoadAfter    string  `json:"loadavg_after"`
}

func measureSilver(b *testing.B, lake *lakehouse.Lakehouse, ns silver.Namespaces, profPath string, profile bool) silverRun {
	b.Helper()
	if profile {
		prof, err := os.Create(profPath)
		if err != nil {
			b.Fatal(err)
		}
		defer prof.Close()
		if err := pprof.StartCPUProfile(prof); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var r silverRun
	r.LoadBefore = loadavg()
	q0, cpu0, wall0 := runQueueWait(), cpuSeconds(), time.Now()
	res, err := silver.New(lake, silver.Config{Namespaces: ns}).Run(context.Background(), silver.SourceAll)
	r.WallSeconds, r.CPUSeconds, r.RunQueueWait = time.Since(wall0).Seconds(), cpuSeconds()-cpu0, runQueueWait()-q0
	r.LoadAfter = loadavg()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range res {
		r.Rows += s.Rows + s.Rejects
		r.BronzeRows += s.BronzeRows
	}
	r.RowsPerSecond = float64(r.BronzeRows) / r.WallSeconds
	r.CPUPerMillion = r.CPUSeconds / float64(r.BronzeRows) * 1e6
	return r
}

// medianRun is the run with the median wall time.
func medianRun(runs []silverRun) silverRun {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b silverRun) int { return cmp.Compare(a.WallSeconds, b.WallSeconds) })
	return sorted[len(sorted)/2]
}

func createNamespace(b *testing.B, lake *lakehouse.Lakehouse, ns string) {
	b.Helper()
	ctx := context.Background()
	if err := lake.EnsureNamespace(ctx, ns); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for id, err := range lake.Catalog.ListTables(ctx, table.Identifier{ns}) {
			if err != nil {
				break
			}
			_ = lake.Catalog.DropTable(ctx, id)
		}
		_ = lake.Catalog.DropNamespace(ctx, table.Identifier{ns})
	})
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(data))
}

// runQueueWait sums, over the process's threads, the seconds they waited
// on a run queue (the second field of /proc/self/task/*/schedstat).
func runQueueWait() float64 {
	tasks, _ := os.ReadDir("/proc/self/task")
	var sum float64
	for _, t := range tasks {
		data, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(data)); len(f) >= 2 {
			ns, _ := strconv.ParseFloat(f[1], 64)
			sum += ns / 1e9
		}
	}
	return sum
}

// profileShares gives the cumulative CPU of the parts of a silver run: the
// summed cum time of the functions whose name matches each pattern (the
// parts overlap where one calls another, as noted in their names).
func profileShares(path string) map[string]string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=5000", path).Output()
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	parts := []struct{ name, re string }{
		{"bronze: plan appends (manifest lists, manifests)", `silver\.planAppends\.func1$`},
		{"bronze: parquet decode (arrow-go)", `pqarrow\.\(\*ColumnReader\)\.NextBatch$`},
		{"bronze: parse payloads (events parsers, rejects)", `silver\.\(\*Job\)\.chunk\.func1$`},
		{"dedup: key scan of hot + archive", `silver\.\(\*Job\)\.existingKeys$`},
		{"sort: write order (silver order)", `\]\)\.order$`},
		{"arrow: build record batches (incl. sort)", `\]\)\.batches\.func1$`},
		{"parquet: encode + upload (iceberg-go rolling writers, incl. zstd)", `table\.\(\*RollingDataWriter\)\.stream$`},
		{"parquet: zstd compression", `zstd\.\(\*Encoder\)\.EncodeAll$`},
		{"commits (lakehouse.Commit: manifests, catalog)", `weir/lakehouse\.Commit$`},
		{"garbage collection (background)", `runtime\.gcBgMarkWorker$`},
		{"allocation (mallocgc, incl. arrow buffers)", `runtime\.mallocgc$`},
	}
	sums := make([]time.Duration, len(parts))
	res := map[string]string{}
	var total time.Duration
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "Total samples = "); i >= 0 {
			f := strings.Fields(line[i+len("Total samples = "):])
			if len(f) > 0 {
				total, _ = time.ParseDuration(f[0])
			}
			res["total"] = strings.TrimSpace(line)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		cum, err := time.ParseDuration(f[3])
		if err != nil {
			continue
		}
		fn := strings.Join(f[5:], " ")
		for i, p := range parts {
			if regexp.MustCompile(p.re).MatchString(strings.TrimSuffix(fn, " (inline)")) {
				sums[i] += cum
			}
		}
	}
	for i, p := range parts {
		share := ""
		if total > 0 {
			share = fmt.Sprintf(" (%.1f%%)", 100*float64(sums[i])/float64(total))
		}
		res[p.name] = fmt.Sprintf("%.2fs%s", sums[i].Seconds(), share)
	}
	return res
}

// profileTop lists the n functions with the most flat CPU time.
func profileTop(path string, n int) []string {
	out, err := exec.Command("go", "tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", n), path).Output()
	if err != nil {
		return []string{err.Error()}
	}
	var res []string
	started := false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "flat") {
			started = true
			continue
		}
		if started && strings.TrimSpace(line) != "" {
			res = append(res, strings.Join(strings.Fields(line), " "))
		}
	}
	return res
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
