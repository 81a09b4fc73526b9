//go:build integration

package gold

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// TestSnapshotRefresh: apply takes a snapshot table (data_span_latest)
// with its view's answer; a refresh within the snapshot's @every leaves
// it as it was though the view moved (silver took new rows), and one
// after it takes it again, equal to the view once more. A new Runner (a
// new refresh process) takes it at once.
func TestSnapshotRefresh(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	clock := time.Now()
	g.runner.Now = func() time.Time { return clock }
	var defs []*Definition
	for _, d := range g.defs {
		if d.Name == "data_span" || d.Name == "data_span_latest" {
			defs = append(defs, d)
		}
	}
	if len(defs) != 2 || defs[1].Kind != KindSnapshot {
		t.Fatalf("want the data_span view, then its snapshot: %v", defs)
	}
	every := defs[1].Every
	hour := time.Now().UTC().Truncate(time.Hour)
	load := func(from time.Time) {
		t.Helper()
		recs, _ := silvertest.Generate(t, from, from.Add(10*time.Minute), 5, generate.FaultRates{})
		g.LoadBronze(t, recs, from.Add(10*time.Minute))
		if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
			t.Fatalf("silver: %v", err)
		}
	}
	q := func(s string) string { return strings.ReplaceAll(s, "gold.", g.goldSchema+".") }
	view := q("SELECT tier, table_name, rows, first_day, last_day FROM gold.data_span ORDER BY 1, 2")
	snap := q("SELECT tier, table_name, rows, first_day, last_day FROM gold.data_span_latest ORDER BY 1, 2")
	change := func(res []Result) Change {
		for _, r := range res {
			if r.Name == "data_span_latest" {
				return r.Change
			}
		}
		return ""
	}

	load(hour.Add(-2 * time.Hour))
	res, err := g.runner.Apply(ctx, defs)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if c := change(res); c != Created {
		t.Fatalf("apply: snapshot %s, want created", c)
	}
	first := queryLines(t, g.db, snap)
	if !slices.Equal(first, queryLines(t, g.db, view)) {
		t.Fatalf("snapshot after apply:\n%v\nwant the view's\n%v", first, queryLines(t, g.db, view))
	}

	load(hour.Add(-1 * time.Hour))
	clock = clock.Add(every / 2)
	if res, err = g.runner.Refresh(ctx, defs); err != nil || change(res) != Unchanged {
		t.Fatalf("refresh within @every: %s, %v; want unchanged", change(res), err)
	}
	if got, now := queryLines(t, g.db, snap), queryLines(t, g.db, view); !slices.Equal(got, first) || slices.Equal(got, now) {
		t.Fatalf("snapshot within @every:\n%v\nwant it as taken\n%v\nnot the view's new\n%v", got, first, now)
	}

	clock = clock.Add(every / 2)
	if res, err = g.runner.Refresh(ctx, defs); err != nil || change(res) != Refreshed {
		t.Fatalf("refresh after @every: %s, %v; want refreshed", change(res), err)
	}
	if got, want := queryLines(t, g.db, snap), queryLines(t, g.db, view); !slices.Equal(got, want) {
		t.Fatalf("snapshot after @every:\n%v\nwant the view's\n%v", got, want)
	}

	fresh := &Runner{DB: g.db, Target: g.target, Now: g.runner.Now}
	if res, err = fresh.Refresh(ctx, defs); err != nil || change(res) != Refreshed {
		t.Fatalf("a new Runner's refresh: %s, %v; want refreshed", change(res), err)
	}
}
