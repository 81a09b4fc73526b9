//go:build integration && bench

package gold

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"weir/config"
	"weir/events"
	"weir/internal/benchreport"
	"weir/internal/stacktest"
	"weir/jobs/silver"
	"weir/jobs/stream"
	"weir/kafkaio"
	"weir/lakehouse"
	"weir/trino"
)

// TestFreshnessFollow measures event → gold view freshness with silver in
// follow mode (make bench-freshness; not part of make test or make bench):
// `weir generate --live --flat` produces the generator's mix at
// WEIR_BENCH_RATE records/s (default 5000) to topics of its own, for
// WEIR_BENCH_WARMUP (default 5m: its rate ramps up while the first sessions
// start) and then WEIR_BENCH_DURATION (default 2m), the measured window; the stream job lands them in bronze,
// a silver Follower (interval 10 s, the default) builds silver, and
// refreshes every gold rollup beside it after runs that changed silver. A probe
// app event stamped with the wall clock is produced every second (one key,
// so one partition: probes become visible in order), and two pollers
// record when each probe is visible through Trino in gold.events (a view
// over silver.events) and in gold.event_counts_15m (a view over the
// events_15m rollup). Freshness = visible − stamped. Results in
// bench/results/freshness-gold.json (WEIR_BENCH_RESULTS=1; else logged).
func TestFreshnessFollow(t *testing.T) {
	rate := envInt(t, "WEIR_BENCH_RATE", 5000)
	duration := envDuration(t, "WEIR_BENCH_DURATION", 2*time.Minute)
	// The generator's sessions last minutes, so its rate ramps up for the
	// first of them (5 minutes reach ~4.7k/s of 5k): probes start after
	// the warm-up, and the achieved rate is measured over their window.
	warmup := envDuration(t, "WEIR_BENCH_WARMUP", 5*time.Minute)
	loadStart := benchreport.ThisMachine()["loadavg"]
	ctx := context.Background()
	g := newGoldEnv(t)
	prefix := fmt.Sprintf("fr%08x", rand.Uint32())
	ns := g.Env.NS
	ns.Bronze, ns.BronzePrefix = lakehouse.Bronze, prefix+"_"
	target := g.target
	target.Schemas["bronze"] = lakehouse.Bronze
	runner := &Runner{DB: g.db, Target: target}
	if _, err := runner.Apply(ctx, g.defs); err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { dropPrefixedBronze(t, g, prefix) })

	// Bronze: the stream job on the prefixed topics, created first (a
	// pattern subscription would see topics created later only at its next
	// metadata refresh, minutes later).
	specs := kafkaio.SourceTopics()
	var topics []string
	for i := range specs {
		specs[i].Name = prefix + "." + specs[i].Name
		topics = append(topics, specs[i].Name)
	}
	if err := kafkaio.EnsureTopics(ctx, g.cfg.Kafka, specs); err != nil {
		t.Fatal(err)
	}
	sjob, err := stream.New(stream.Config{
		Topics: topics, Group: prefix + "-stream",
		DeadLetters: lakehouse.Bronze + "." + prefix + "_dead_letters", Listen: "127.0.0.1:0",
	}, g.cfg.Kafka, g.Env.Lake, slog.Default().With("job", "stream"))
	if err != nil {
		t.Fatal(err)
	}
	// Silver in follow mode, the gold refresh beside it after changing runs.
	var mu sync.Mutex
	var refreshSecs []float64
	fc := silver.DefaultFollowConfig()
	fc.Then = func(ctx context.Context) error {
		start := time.Now()
		_, err := runner.Refresh(ctx, g.defs)
		mu.Lock()
		refreshSecs = append(refreshSecs, time.Since(start).Seconds())
		mu.Unlock()
		return err
	}
	follower, err := silver.NewFollower(silver.New(g.Env.Lake, silver.Config{Namespaces: ns}), fc)
	if err != nil {
		t.Fatal(err)
	}
	jctx, stopJobs := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	jobs.Add(2)
	go func() {
		defer jobs.Done()
		if err := sjob.Run(jctx); err != nil {
			t.Errorf("stream: %v", err)
		}
	}()
	go func() {
		defer jobs.Done()
		if err := follower.Run(jctx); err != nil {
			t.Errorf("follow: %v", err)
		}
	}()
	defer func() { stopJobs(); jobs.Wait() }()

	// Load: the generator, live.
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	gen := stacktest.StartWeir(t, "generate", nil, "generate", "--live", "--flat", "--rate", fmt.Sprint(rate), "--duration", (warmup + duration).String(),
		"--topic-prefix", prefix+".", "--faults", "none", "--anomalies", "none", "--ensure-topics", "--summary", sumPath)

	// Probes, one a second, while the generator runs.
	prod, err := kafkaio.NewProducer(g.cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	probeTopic := prefix + "." + events.TopicAppEvents
	var stamped []time.Time
	seen := map[string][]time.Time{"gold.events": nil, "gold.event_counts_15m": nil}
	queries := map[string]string{
		"gold.events":           "SELECT count(*) FROM gold.events WHERE service = 'freshness-probe'",
		"gold.event_counts_15m": "SELECT coalesce(sum(events), 0) FROM gold.event_counts_15m WHERE service = 'freshness-probe'",
	}
	pctx, stopPolls := context.WithCancel(ctx)
	var polls sync.WaitGroup
	for view, q := range queries {
		q = strings.ReplaceAll(q, "gold.", g.goldSchema+".")
		polls.Add(1)
		go func() {
			defer polls.Done()
			for pctx.Err() == nil {
				vals, err := trino.Strings(pctx, g.db, q)
				now := time.Now()
				if err == nil && len(vals) == 1 {
					var n int
					fmt.Sscan(vals[0], &n)
					mu.Lock()
					for len(seen[view]) < n {
						seen[view] = append(seen[view], now)
					}
					mu.Unlock()
				}
				select {
				case <-pctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
		}()
	}
	select {
	case <-gen.Done():
	case <-time.After(warmup):
	}
	windowStart, producedBefore := time.Now(), produced(t, g.cfg.Kafka, topics)
	tick := time.NewTicker(time.Second)
	for i := 0; ; i++ {
		if gen.Err() != nil || isDone(gen) {
			break
		}
		now := time.Now().UTC()
		e := events.AppEvent{EventID: fmt.Sprintf("%s-probe-%d", prefix, i), ActionID: fmt.Sprintf("%s-probe-%d", prefix, i), TS: now,
			Service: "freshness-probe", Host: "bench", UserID: "probe", Type: events.TypePageView, Page: "/probe", Status: events.StatusOK}
		if err := prod.Produce(ctx, probeTopic, []byte("probe"), e.AppendJSON(nil)); err != nil {
			t.Fatalf("produce probe: %v", err)
		}
		mu.Lock()
		stamped = append(stamped, now)
		mu.Unlock()
		<-tick.C
	}
	tick.Stop()
	window, inWindow := time.Since(windowStart), produced(t, g.cfg.Kafka, topics)-producedBefore
	if err := gen.Err(); err != nil {
		t.Fatalf("generate: %v\n%s", err, stacktest.Tail(gen.Output(), 2000))
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	if err := prod.Flush(fctx); err != nil {
		t.Fatalf("flush probes: %v", err)
	}
	cancel()
	// Every probe visible in both views, or three minutes.
	stacktest.Eventually(t, 3*time.Minute, time.Second, func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return len(seen["gold.events"]) >= len(stamped) && len(seen["gold.event_counts_15m"]) >= len(stamped), nil
	}, func() string {
		return fmt.Sprintf("of %d probes, %d visible in gold.events, %d in gold.event_counts_15m", len(stamped), len(seen["gold.events"]), len(seen["gold.event_counts_15m"]))
	})
	stopPolls()
	polls.Wait()
	stopJobs()
	jobs.Wait()

	var sum struct {
		Records int64 `json:"records"`
	}
	if b, err := os.ReadFile(sumPath); err == nil {
		_ = json.Unmarshal(b, &sum)
	}
	views := map[string]any{}
	for view, at := range seen {
		var lag []float64
		for i, s := range stamped {
			lag = append(lag, at[i].Sub(s).Seconds())
		}
		slices.Sort(lag)
		views[view] = map[string]any{"probes": len(lag), "freshness_p50_s": quant(lag, 0.5), "freshness_p95_s": quant(lag, 0.95), "freshness_max_s": quant(lag, 1)}
	}
	slices.Sort(refreshSecs)
	machine := benchreport.ThisMachine()
	machine["loadavg_start"] = loadStart
	res := map[string]any{
		"measured_at":              time.Now().UTC().Format(time.RFC3339),
		"machine":                  machine,
		"target_rate_records_s":    rate,
		"warmup_s":                 warmup.Seconds(),
		"duration_s":               window.Seconds(),
		"generated_records":        sum.Records,
		"window_records":           inWindow,
		"achieved_rate_records_s":  float64(inWindow) / window.Seconds(),
		"follow_interval_s":        fc.Interval.Seconds(),
		"gold_refreshes":           len(refreshSecs),
		"gold_refresh_p50_s":       quant(refreshSecs, 0.5),
		"gold_refresh_p95_s":       quant(refreshSecs, 0.95),
		"gold_refresh_parallel":    runner.parallel(),
		"views":                    views,
		"stream_commit_interval_s": stream.DefaultConfig().CommitInterval.Seconds(),
		"method": "weir generate --live --flat at the target rate; after the warm-up, a probe app event (wall-clock ts) every 1 s on one partition; achieved rate = the source topics' records produced in the probe window (high watermarks); Trino polled every 500 ms per view for the probes visible; " +
			"visible = poll completion time; silver follow mode (every source, 10 s after each run) with the gold refresh of every rollup in a loop beside it, due after each run that changed silver; " +
			"a refresh merges the changed slices of rollups with @slice (events_15m: 15 min), whole changed days of the others, gold_refresh_parallel at once",
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("freshness:\n%s", b)
	if os.Getenv("WEIR_BENCH_RESULTS") != "" {
		path := filepath.Join(stacktest.ModuleRoot(t), "bench", "results", "freshness-gold.json")
		if err := benchreport.WriteJSON(path, res); err != nil {
			t.Fatal(err)
		}
	}
}

// produced is the number of records in topics so far: the sum of their
// partitions' high watermarks.
func produced(t *testing.T, kcfg config.Kafka, topics []string) int64 {
	t.Helper()
	c, err := kafkaio.NewConsumer(kcfg, "weir-bench-watermarks", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int64
	for _, topic := range topics {
		md, err := c.GetMetadata(&topic, false, 10000)
		if err != nil {
			t.Fatalf("metadata of %s: %v", topic, err)
		}
		for _, p := range md.Topics[topic].Partitions {
			_, high, err := c.QueryWatermarkOffsets(topic, p.ID, 10000)
			if err != nil {
				t.Fatalf("watermarks of %s[%d]: %v", topic, p.ID, err)
			}
			n += high
		}
	}
	return n
}

func isDone(p *stacktest.Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

func quant(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted)-1)+0.5))]
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// dropPrefixedBronze drops the bronze tables the stream job made for the
// test's topics.
func dropPrefixedBronze(t *testing.T, g *goldEnv, prefix string) {
	ctx := context.Background()
	for id, err := range g.Env.Lake.Catalog.ListTables(ctx, table.Identifier{lakehouse.Bronze}) {
		if err != nil {
			t.Logf("list bronze: %v", err)
			return
		}
		if strings.HasPrefix(id[len(id)-1], prefix+"_") {
			if err := g.Env.Lake.Catalog.DropTable(ctx, id); err != nil {
				t.Logf("drop %v: %v", id, err)
			}
		}
	}
}
