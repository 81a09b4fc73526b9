//go:build integration && bench

package stream_test

// TestBenchBronzeMillion is the bronze benchmark (make bench): 1,000,000
// ~300-byte messages produced to four topics before the job starts, then
// drained by one `weir stream` process; it checks exact accounting and
// writes bench/results/bronze.json with msgs/s, MB/s, the job's CPU seconds
// per million messages, a CPU profile summary of the drain, and freshness
// (produce → visible in Trino) at a steady load afterwards.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/kafkaio"
	"weir/lakehouse"
	"weir/trino"
)

func TestBenchBronzeMillion(t *testing.T) {
	total := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("WEIR_BENCH_MESSAGES")); err == nil && n > 0 {
		total = n // quick runs; the published figure is for 1,000,000
	}
	s := openStack(t)
	probe := s.newTopics(t, 1, "probe")[0]
	listen := stacktest.FreeAddr(t)
	profPath := filepath.Join(stacktest.ModuleRoot(t), "bench", "results", "bronze.cpu.pprof")
	profDone := make(chan error, 1)
	var cpuDrain float64
	var fresh freshResult
	d := s.drainExactly(t, total, drainHooks{
		args: []string{"--listen", listen, "--commit-interval", "3s"},
		also: []string{probe},
		// CPU profile of the drain (where the time goes).
		draining: func(*stacktest.Process) {
			go func() { profDone <- fetchProfile("http://"+listen+"/debug/pprof/profile?seconds=8", profPath) }()
		},
		drained: func(p *stacktest.Process, topics []string) {
			if err := <-profDone; err != nil {
				t.Logf("cpu profile: %v", err)
			}
			cpuDrain = processCPU(t, p.Cmd.Process.Pid)
			t.Logf("job CPU %.1fs for the drain", cpuDrain)
			fresh = s.freshness(t, p, topics, probe, 20*time.Second, 20_000)
		},
	})
	var payloadBytes int64
	for _, topic := range d.topics {
		payloadBytes += int64(d.perTopic) * int64(len(payload(topic, 123456)))
	}

	res := map[string]any{
		"benchmark":            "bronze",
		"messages":             total,
		"message_bytes_avg":    float64(payloadBytes) / float64(total),
		"topics":               len(d.topics),
		"partitions":           6 * len(d.topics),
		"commit_interval":      "3s",
		"drain_seconds":        d.drain.Seconds(),
		"wall_seconds":         d.wall.Seconds(),
		"drain_note":           "drain = first partition assigned (job log) to the commit timestamp of the last snapshot needed; wall adds process start and the group join",
		"msgs_per_sec":         float64(total) / d.drain.Seconds(),
		"mb_per_sec":           float64(payloadBytes) / 1e6 / d.drain.Seconds(),
		"cpu_seconds_per_1m":   cpuDrain * 1e6 / float64(total),
		"cpu_seconds_total":    d.cpu.Seconds(),
		"rows_checked":         d.rows,
		"duplicates":           0,
		"freshness_load_msg_s": fresh.rate,
		"freshness_probes":     len(fresh.samples),
		"freshness_p50_s":      quantile(fresh.samples, 0.50),
		"freshness_p95_s":      quantile(fresh.samples, 0.95),
		"freshness_max_s":      quantile(fresh.samples, 1),
		"freshness_method":     "probe record every 500ms; Trino polled every 250ms for max(offset) of the probe table; visible = poll completion time",
		"cpu_profile":          "bench/results/bronze.cpu.pprof (8s of the drain): go tool pprof -top",
		"cpu_profile_cum":      pprofTop(profPath),
		"measured_at":          time.Now().UTC().Format(time.RFC3339),
		"machine":              machine(),
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	out := filepath.Join(stacktest.ModuleRoot(t), "bench", "results", "bronze.json")
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}

type freshResult struct {
	samples []float64
	rate    float64
}

// freshness produces a steady load of rate msg/s for d, plus a probe record
// every 500ms, and measures when each probe becomes visible in Trino.
func (s *stack) freshness(t testing.TB, p *stacktest.Process, topics []string, probe string, d time.Duration, rate int) freshResult {
	t.Helper()
	q := fmt.Sprintf(`SELECT coalesce(max("offset"), -1) FROM %s`, lakehouse.BronzeTable(probe))
	return s.freshnessQuery(t, topics, probe, q, d, rate)
}

// freshnessQuery is freshness with the Trino query that returns the highest
// probe offset visible (-1 for none): the peer's table has its own columns.
func (s *stack) freshnessQuery(t testing.TB, topics []string, probe, q string, d time.Duration, rate int) freshResult {
	t.Helper()
	prod, err := kafkaio.NewProducer(s.cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()

	var (
		mu       sync.Mutex
		produced []time.Time // probe i produced at produced[i]
		visible  = map[int]time.Time{}
	)
	var wg sync.WaitGroup
	stopLoad := make(chan struct{})
	wg.Add(2)
	go func() { // background load
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		i := 0
		for {
			select {
			case <-stopLoad:
				return
			case <-tick.C:
			}
			for n := 0; n < rate/100; n++ {
				topic := topics[i%len(topics)]
				if err := prod.Produce(ctx, topic, nil, payload(topic, i)); err != nil {
					t.Error(err)
					return
				}
				i++
			}
		}
	}()
	go func() { // probes
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopLoad:
				return
			case <-tick.C:
			}
			mu.Lock()
			produced = append(produced, time.Now())
			mu.Unlock()
			if err := prod.Produce(ctx, probe, nil, []byte(time.Now().Format(time.RFC3339Nano))); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	db, err := trino.Open(s.cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		// A system that commits slowly gets up to 2 min to show its last
		// probe; the loop ends as soon as every probe is visible.
		end := time.Now().Add(d + 2*time.Minute)
		for time.Now().Before(end) {
			var maxOff int64
			err := db.QueryRowContext(ctx, q).Scan(&maxOff)
			now := time.Now()
			if err == nil {
				mu.Lock()
				for i := 0; i <= int(maxOff) && i < len(produced); i++ {
					if _, ok := visible[i]; !ok {
						visible[i] = now
					}
				}
				done := len(produced) > 0 && len(visible) >= len(produced) && time.Since(produced[0]) > d
				mu.Unlock()
				if done {
					return
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	time.Sleep(d)
	close(stopLoad)
	wg.Wait()
	<-pollDone
	mu.Lock()
	defer mu.Unlock()
	var out []float64
	for i, at := range produced {
		if v, ok := visible[i]; ok {
			out = append(out, v.Sub(at).Seconds())
		} else {
			t.Errorf("probe %d never became visible in Trino", i)
		}
	}
	slices.Sort(out)
	return freshResult{samples: out, rate: float64(rate)}
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// processCPU is the user+system CPU seconds of a running process.
func processCPU(t testing.TB, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Logf("read cpu of %d: %v", pid, err)
		return 0
	}
	// Fields after the command (which may contain spaces) start after ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var utime, stime float64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return (utime + stime) / 100 // USER_HZ
}

func fetchProfile(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pprofTop summarises a CPU profile: the share of CPU (cumulative) spent
// under the functions that matter for the stream job.
func pprofTop(path string) map[string]string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=1000", path).Output()
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	parts := map[string]string{
		"total":                             "Total samples",
		"kafka consumer Poll (cgo)":         "kafka.(*Consumer).Poll",
		"row building (Job.add)":            "stream.(*Job).add",
		"arrow record building":             "(*selection).recordBatches",
		"parquet write (RollingDataWriter)": "(*RollingDataWriter).stream",
		"zstd compression":                  "zstd.(*Encoder).EncodeAll",
		"lakehouse.Commit (catalog, S3)":    "weir/lakehouse.Commit",
		"S3 client setup per FS call":       "s3.createS3Bucket",
		"garbage collection (background)":   "runtime.gcBgMarkWorker",
		"allocation (mallocgc)":             "runtime.mallocgc",
	}
	res := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		for name, fn := range parts {
			if _, done := res[name]; done || !strings.Contains(line, fn) {
				continue
			}
			if name == "total" {
				res[name] = strings.TrimSpace(line)
				continue
			}
			if f := strings.Fields(line); len(f) >= 5 {
				res[name] = f[3] + " (" + f[4] + ")"
			}
		}
	}
	return res
}

func machine() map[string]any {
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	return map[string]any{
		"cpus":    runtime.NumCPU(),
		"go":      runtime.Version(),
		"goos":    runtime.GOOS,
		"goarch":  runtime.GOARCH,
		"host":    host,
		"loadavg": strings.TrimSpace(string(load)),
		"note":    "Kafka, MinIO, PostgreSQL and Trino run on the same machine; other engineers' jobs share the 2 CPUs",
	}
}
