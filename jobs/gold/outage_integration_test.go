//go:build integration

package gold

import (
	"context"
	"testing"
	"time"

	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// TestGoldRefreshTrinoDown stops the Trino coordinator while a gold refresh
// merges late data into the rollups, starts it again, and refreshes once
// more: whatever the interrupted refresh left half done is repaired, and
// every view answers what the generator's records say.
func TestGoldRefreshTrinoDown(t *testing.T) {
	refreshWithCoordinatorDown(t, "localstack StopService trino 1.5 s into the refresh and StartService at once; then the next refresh")
}

// refreshWithCoordinatorDown is TestGoldRefreshTrinoDown on the stack
// env.sh points at (the cluster profile's too: its workers keep running
// and announce themselves to the coordinator again).
func refreshWithCoordinatorDown(t *testing.T, injected string) {
	ctx := context.Background()
	g := newGoldEnv(t)
	env, db, goldSchema, defs, runner, job := g.Env, g.db, g.goldSchema, g.defs, g.runner, g.job
	ls := stacktest.Stack(t)
	loadedAt := time.Now().UTC()
	start := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	recs1, _ := silvertest.Generate(t, start, start.Add(3*time.Hour), 8, generate.DefaultFaults, func(c *generate.Config) {
		c.Seed, c.AnomalyEvery = 21, 30*time.Minute
	})
	env.LoadBronze(t, recs1, loadedAt)
	if _, err := job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	if _, err := runner.Apply(ctx, defs); err != nil {
		t.Fatalf("apply: %v", err)
	}
	recs2, _ := silvertest.Generate(t, start.Add(90*time.Minute), start.Add(150*time.Minute), 8, generate.DefaultFaults, func(c *generate.Config) {
		c.Seed, c.AnomalyEvery = 22, 20*time.Minute
	})
	env.LoadBronze(t, recs2, loadedAt)
	if _, err := job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}

	refreshed := make(chan error, 1)
	go func() {
		_, err := runner.Refresh(ctx, defs)
		refreshed <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := ls.StopService(ctx, "trino"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = ls.StartService(context.Background(), "trino")
		}
	})
	// Started again at once: the Trino client retries a request for up to
	// 2 min, so the refresh may ride out the restart or fail; either way
	// the next refresh must leave every view exact.
	if err := ls.StartService(ctx, "trino"); err != nil {
		t.Fatal(err)
	}
	restarted = true
	interrupted := <-refreshed
	if interrupted == nil {
		t.Log("the refresh rode out the coordinator's restart")
	} else {
		t.Logf("the refresh failed as the coordinator stopped: %v", interrupted)
	}
	if err := ls.WaitTrino(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Refresh(ctx, defs); err != nil {
		t.Fatalf("refresh after the coordinator came back: %v", err)
	}
	m := newModel(loadedAt)
	m.add(recs1)
	m.add(recs2)
	checkViews(t, db, goldSchema, m)
	if !t.Failed() {
		n := int64(len(recs1) + len(recs2))
		if err := faultreport.Record(faultreport.Entry{Test: t.Name(), Fault: "the Trino coordinator stopped during a gold refresh",
			Injected: injected,
			Times:    1, Expected: n, Stored: n}); err != nil {
			t.Error(err)
		}
	}
}
