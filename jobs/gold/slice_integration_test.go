//go:build integration

package gold

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// TestRefreshSlices: once a refresh has saved a day's slice counts, the
// next recomputes only the slices that changed — the older slice a late
// record landed in, and the newest — and the slice before each for the
// window rollup; the rollups then equal their definitions computed over all
// of silver, and a refresh without new data changes nothing.
func TestRefreshSlices(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	var defs []*Definition
	for _, d := range g.defs {
		if d.Name == "events_15m" || d.Name == "operation_bursts" {
			defs = append(defs, d)
		}
	}
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	// Both rollups read silver.events only: one source to build.
	load := func(seed uint64, spans ...time.Duration) {
		var recs []silvertest.Record
		for i := 0; i+1 < len(spans); i += 2 {
			r, _ := silvertest.Generate(t, day.Add(spans[i]), day.Add(spans[i+1]), 2, generate.FaultRates{}, func(c *generate.Config) { c.Seed = seed + uint64(i) })
			recs = append(recs, r...)
		}
		g.LoadBronze(t, recs, day.Add(11*time.Hour+10*time.Minute))
		if _, err := g.job.Run(ctx, silver.SourceAppEvents); err != nil {
			t.Fatalf("silver: %v", err)
		}
	}
	refresh := func() map[string]Result {
		t.Helper()
		res, err := g.runner.Refresh(ctx, defs)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		out := map[string]Result{}
		for _, r := range res {
			out[r.Name] = r
		}
		return out
	}
	slicesOf := func(r Result) string { return string(r.Change) + " " + strings.Repeat("|", r.Slices) }

	load(1, 10*time.Hour, 10*time.Hour+20*time.Minute)
	if _, err := g.runner.Apply(ctx, defs); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// The first refresh has no slice counts of the day (the build saved
	// day counts): every slice with rows.
	load(2, 10*time.Hour+20*time.Minute, 10*time.Hour+40*time.Minute)
	if r := refresh()["events_15m"]; r.Change != Refreshed || r.Slices != 3 || r.Days != 1 {
		t.Errorf("first refresh of events_15m: %s, %d slices, %d days; want refreshed, 3 slices (10:00, 10:15, 10:30), 1 day", r.Change, r.Slices, r.Days)
	}
	// Late records at 10:05 and new ones at 11:00.
	load(3, 10*time.Hour+5*time.Minute, 10*time.Hour+7*time.Minute, 11*time.Hour, 11*time.Hour+5*time.Minute)
	res := refresh()
	if r := res["events_15m"]; r.Change != Refreshed || r.Slices != 2 {
		t.Errorf("events_15m: %s; want refreshed, 2 slices (10:00, 11:00)", slicesOf(r))
	}
	if r := res["operation_bursts"]; r.Change != Refreshed || r.Slices != 4 {
		t.Errorf("operation_bursts: %s; want refreshed, 4 slices (09:45, 10:00, 10:45, 11:00)", slicesOf(r))
	}
	for name, r := range refresh() {
		if r.Change != Unchanged {
			t.Errorf("refresh without new data: %s %s, want unchanged", name, r.Change)
		}
	}
	same := func(after string) {
		t.Helper()
		for _, d := range defs {
			got := queryLines(t, g.db, "SELECT * FROM "+g.goldSchema+"."+d.Name+" ORDER BY 1, 2, 3, 4")
			want := queryLines(t, g.db, "SELECT * FROM (\n"+g.runner.Target.physical(d.SQL)+"\n) ORDER BY 1, 2, 3, 4")
			if len(want) == 0 {
				t.Fatalf("%s: the definition over silver has no rows", d.Name)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %d rows after %s, %d from the definition over all of silver; first differences:\n%s",
					d.Name, len(got), after, len(want), firstDiff(got, want))
			}
		}
	}
	same("slice refreshes")

	// Maintenance: the refreshes' MERGEs left data and delete files;
	// optimize rewrites them into fewer, and the rows stay the same.
	maintained, err := g.runner.Maintain(ctx, defs, DefaultRetention)
	if err != nil {
		t.Fatalf("maintain: %v", err)
	}
	for _, r := range maintained {
		var before, after int
		if _, err := fmt.Sscanf(r.Reason, "%d files → %d", &before, &after); err != nil || r.Change != Maintained {
			t.Fatalf("maintain %s: %s %q", r.Name, r.Change, r.Reason)
		}
		t.Logf("maintain %s: %s", r.Name, r.Reason)
		if r.Name == "events_15m" && !(after >= 1 && after < before) {
			t.Errorf("maintain events_15m: %d files → %d; want fewer, at least one", before, after)
		}
	}
	same("maintenance")
}

func firstDiff(got, want []string) string {
	var out []string
	for i := 0; i < max(len(got), len(want)) && len(out) < 6; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			out = append(out, "got  "+g, "want "+w)
		}
	}
	return strings.Join(out, "\n")
}
