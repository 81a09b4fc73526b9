//go:build integration && bench

package gold

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weir/jobs/generate"
	"weir/jobs/gold/dashboard"
	"weir/jobs/load"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// BenchmarkGoldDashboards measures every dashboard query on a silver layer
// of WEIR_BENCH_GOLD_ROWS generated records (default 10M) in namespaces of
// its own: first alone (one client), then under `weir load` (4 clients)
// while ingestion appends to the same tables (generate → bronze → silver →
// gold refresh in a loop). Results go to bench/results/gold.json.
func BenchmarkGoldDashboards(b *testing.B) {
	ctx := context.Background()
	target := int64(10_000_000)
	if v, err := strconv.ParseInt(os.Getenv("WEIR_BENCH_GOLD_ROWS"), 10, 64); err == nil && v > 0 {
		target = v
	}
	g := newGoldEnv(b)
	env, db, tgt, defs, runner, job := g.Env, g.db, g.target, g.defs, g.runner, g.job

	// Seven days ending now (so the dashboards' time ranges hit them), in
	// chunks that bound memory.
	end := time.Now().UTC().Truncate(time.Hour)
	span := 7 * 24 * time.Hour
	rate := float64(target) / span.Seconds()
	const chunks = 14
	step := span / chunks
	var produced int64
	t0 := time.Now()
	for i := 0; i < chunks; i++ {
		from := end.Add(-span + time.Duration(i)*step)
		recs, _ := silvertest.Generate(b, from, from.Add(step), rate, generate.DefaultFaults, func(c *generate.Config) {
			c.Seed, c.Users, c.AnomalyEvery = uint64(100+i), 5000, 3*time.Hour
		})
		// Landed as a live stream would have: at the chunk's end, so
		// bronze's ingestion days span the week, not today alone.
		env.LoadBronze(b, recs, from.Add(step))
		produced += int64(len(recs))
		if _, err := job.Run(ctx, silver.SourceAll); err != nil {
			b.Fatalf("silver: %v", err)
		}
		b.Logf("chunk %d/%d: %d records so far, %s", i+1, chunks, produced, time.Since(t0).Round(time.Second))
	}
	buildTook := time.Since(t0)
	var silverRows int64
	for _, tbl := range []string{"access_logs", "events", "logs", "metrics"} {
		var n int64
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM %s.%s", env.NS.Silver, tbl)).Scan(&n); err != nil {
			b.Fatal(err)
		}
		silverRows += n
	}
	t1 := time.Now()
	if _, err := runner.Apply(ctx, defs); err != nil {
		b.Fatalf("apply: %v", err)
	}
	applyTook := time.Since(t1)

	ds, err := dashboard.Load(filepath.Join("..", "..", "services", "grafana", "dashboards"))
	if err != nil {
		b.Fatal(err)
	}
	to := time.Now().UTC()
	from := to.Add(-7 * 24 * time.Hour)
	var queries []load.Query
	for _, d := range ds {
		for i, v := range d.Templating.List {
			if v.Type == "query" {
				d.Templating.List[i].Query = json.RawMessage(strconv.Quote(tgt.physical(v.QuerySQL())))
			}
		}
		if err := d.ResolveOptions(ctx, db, from, to); err != nil {
			b.Fatal(err)
		}
		qs, err := load.DashboardQueries([]*dashboard.Dashboard{d}, from, to)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range qs {
			q.SQL = tgt.physical(q.SQL)
			queries = append(queries, q)
		}
	}

	b.ResetTimer()
	// Alone: one client, every query at least 5 times.
	alone, err := load.Run(ctx, db, load.Config{Clients: 1, Duration: time.Duration(len(queries)) * 5 * 1500 * time.Millisecond, Queries: queries, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}

	// Under load: 4 clients while ingestion runs as follow mode does
	// (weir batch silver --follow --gold): every ingestEvery, the traffic
	// since the last pass lands in bronze, live (event time now) at
	// ingestRate records/s (default 1,000), silver takes it and the rollups
	// are refreshed; a pass that takes longer starts the next at once. So
	// every pass changes the newest slices of every rollup, as in
	// production; generating ahead of the clock would make silver reject
	// the records as future-dated and the refreshes find nothing to do.
	ingestEvery := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("WEIR_BENCH_GOLD_INGEST_EVERY")); err == nil && d >= 0 {
		ingestEvery = d
	}
	ingestRate := 1000.0
	if v, err := strconv.ParseFloat(os.Getenv("WEIR_BENCH_GOLD_INGEST_RATE"), 64); err == nil && v > 0 {
		ingestRate = v
	}
	loadCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var ingested int64
	var passes int
	var ingestErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := time.Now()
		last := next.Add(-ingestEvery)
		for i := 0; loadCtx.Err() == nil; i++ {
			select {
			case <-loadCtx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			now := time.Now()
			next = now.Add(ingestEvery)
			recs, _ := silvertest.Generate(b, last, now, ingestRate, generate.DefaultFaults, func(c *generate.Config) {
				c.Seed, c.Users = uint64(1000+i), 5000
			})
			last = now
			env.LoadBronze(b, recs, now)
			if _, err := job.Run(ctx, silver.SourceAll); err != nil {
				ingestErr = err
				return
			}
			if _, err := runner.Refresh(ctx, defs); err != nil {
				ingestErr = err
				return
			}
			ingested += int64(len(recs))
			passes++
		}
	}()
	loaded, err := load.Run(ctx, db, load.Config{Clients: 4, Duration: 3 * time.Minute, Queries: queries, Seed: 2})
	stop()
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	if ingestErr != nil {
		b.Fatalf("ingestion: %v", ingestErr)
	}
	b.StopTimer()

	type row struct {
		Query        string  `json:"query"`
		AloneP50     float64 `json:"alone_p50_ms"`
		AloneP95     float64 `json:"alone_p95_ms"`
		LoadedP50    float64 `json:"loaded_p50_ms"`
		LoadedP95    float64 `json:"loaded_p95_ms"`
		LoadedErrors int     `json:"loaded_errors"`
	}
	byName := map[string]load.Stats{}
	for _, s := range loaded.Queries {
		byName[s.Name] = s
	}
	var rows []row
	over := 0
	for _, s := range alone.Queries {
		l := byName[s.Name]
		rows = append(rows, row{s.Name, s.P50Ms, s.P95Ms, l.P50Ms, l.P95Ms, l.Errors})
		if s.P95Ms > 1500 {
			over++
		}
	}
	load1, _ := os.ReadFile("/proc/loadavg")
	out := map[string]any{
		"benchmark": "BenchmarkGoldDashboards",
		"machine": map[string]any{
			"goos": runtime.GOOS, "goarch": runtime.GOARCH, "cpus": runtime.NumCPU(),
			"loadavg_at_end": strings.TrimSpace(string(load1)), "trino": "local stack, single node",
		},
		"generated_records":  produced,
		"silver_rows":        silverRows,
		"requested_records":  target,
		"build_seconds":      buildTook.Seconds(),
		"gold_apply_seconds": applyTook.Seconds(),
		"queries":            len(queries),
		"alone":              map[string]any{"clients": 1, "runs": alone.Total.Runs, "errors": alone.Total.Errors, "p50_ms": alone.Total.P50Ms, "p95_ms": alone.Total.P95Ms},
		"under_load": map[string]any{"clients": 4, "seconds": loaded.DurationS, "runs": loaded.Total.Runs, "errors": loaded.Total.Errors, "p50_ms": loaded.Total.P50Ms, "p95_ms": loaded.Total.P95Ms,
			"ingested_records": ingested, "ingest_passes": passes, "ingest_every_s": ingestEvery.Seconds(), "ingest_rate_records_per_s": ingestRate,
			"ingested_records_per_s": math.Round(float64(ingested) / loaded.DurationS)},
		"target_p95_ms":       1500,
		"queries_over_target": over,
		"per_query":           rows,
		"measured_at":         time.Now().UTC(),
	}
	raw, _ := json.MarshalIndent(out, "", "  ")
	path := filepath.Join("..", "..", "bench", "results", "gold.json")
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(alone.Total.P95Ms, "alone_p95_ms")
	b.ReportMetric(loaded.Total.P95Ms, "loaded_p95_ms")
}
