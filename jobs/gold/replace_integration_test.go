//go:build integration

package gold

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// TestRollupReplacedWithOtherColumns: a rollup whose new definition drops
// the column its old partitioning read (as operation_bursts' minute became
// window_start) is rebuilt by apply, and refreshes after it work: a stack
// upgraded across such a change keeps refreshing its gold layer.
func TestRollupReplacedWithOtherColumns(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	recs, _ := silvertest.Generate(t, time.Now().UTC().Add(-3*time.Hour), time.Now().UTC().Add(-2*time.Hour), 2, generate.FaultRates{})
	g.Env.LoadBronze(t, recs, time.Now())
	if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}
	load := func(sql string) []*Definition {
		t.Helper()
		defs, err := Load(fstest.MapFS{"rollups/bursts.sql": {Data: []byte(sql)}})
		if err != nil {
			t.Fatal(err)
		}
		return defs
	}
	v1 := load("-- v1\n-- @key: minute, type\n-- @partitioning: day(minute)\n-- @time: event_ts\n" +
		"SELECT date_trunc('minute', event_ts) AS minute, type, count(*) AS operations FROM silver.events GROUP BY 1, 2\n")
	v2 := load("-- v2\n-- @key: window_start, type\n-- @partitioning: day(window_start)\n-- @time: event_ts\n" +
		"SELECT date_trunc('hour', event_ts) AS window_start, type, count(*) AS operations FROM silver.events GROUP BY 1, 2\n")
	for i, defs := range [][]*Definition{v1, v2} {
		res, err := g.runner.Apply(ctx, defs)
		if err != nil {
			t.Fatalf("apply v%d: %v", i+1, err)
		}
		if want := []Change{Created, Replaced}[i]; res[0].Change != want {
			t.Errorf("apply v%d: %s, want %s", i+1, res[0].Change, want)
		}
	}
	// New silver rows, so the refresh merges into the replaced table.
	more, _ := silvertest.Generate(t, time.Now().UTC().Add(-90*time.Minute), time.Now().UTC().Add(-80*time.Minute), 2, generate.FaultRates{},
		func(c *generate.Config) { c.Seed = 7 })
	g.Env.LoadBronze(t, more, time.Now())
	if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}
	if _, err := g.runner.Refresh(ctx, v2); err != nil {
		t.Fatalf("refresh after the rollup was replaced: %v", err)
	}
}
