//go:build integration

package gold

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"weir/events"
	"weir/jobs/archive"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// errKilled stands for the archive process dying between its copy and its
// delete (archive.CrashAfterCopy).
var errKilled = errors.New("killed after the copy")

// TestUnionViewsCountMidMoveRowsOnce: the gold *_all views show every row
// once while rows are in both tiers. Six days of silver; a first move
// archives the oldest days; a late log line then lands in hot on one of
// those archived days (hot's oldest day is now older than the rest of hot);
// a second move with a shorter hot window is killed after its copy, so the
// late line and the next two days are in hot and in archive at once,
// archive's newest day among them. A row in both tiers is in hot, so its
// day is never older than hot's oldest day; the archive rows older than
// that are archive's alone and must all be shown. Each view's count, per
// tier and in all, is checked against the tables, and so is a dashboard's
// time-range query over the days in both tiers.
func TestUnionViewsCountMidMoveRowsOnce(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	env, db := g.Env, g.db
	now, today := g.silverWithUnionViews(t, 5, 0.004)

	tables := lakehouse.UnionViews()
	move := func(hotDays int, crash bool) {
		t.Helper()
		for _, v := range tables {
			cfg := archive.Config{Namespaces: env.NS, Tables: []string{v.Table}, HotDays: hotDays, Now: func() time.Time { return now }}
			if crash {
				cfg.Crash = func(point string) {
					if point == archive.CrashAfterCopy {
						panic(errKilled)
					}
				}
			}
			func() {
				defer func() {
					if r := recover(); r != nil && r != errKilled {
						panic(r)
					}
				}()
				if _, err := archive.New(env.Lake, cfg).Run(ctx); err != nil {
					t.Fatalf("archive %s: %v", v.Table, err)
				}
				if crash {
					t.Fatalf("archive %s: not killed after its copy (nothing to move?)", v.Table)
				}
			}()
		}
	}
	move(5, false) // today-5 archived
	late := events.AppLog{TS: today.AddDate(0, 0, -5).Add(12 * time.Hour), Level: events.LevelWarn, Service: "late", Host: "h1",
		Message: "late line", ActionID: "late-action"}
	env.LoadBronze(t, []silvertest.Record{{Topic: events.TopicAppLogs, Key: []byte("late"), Value: late.AppendJSON(nil)}}, now)
	if _, err := g.job.Run(ctx, silver.SourceAppLogs); err != nil {
		t.Fatalf("silver (late line): %v", err)
	}
	want := map[string]int64{}
	for _, v := range tables {
		want[v.Table] = env.Count(t, env.NS.Table(v.Table)) + env.Count(t, env.NS.Table(lakehouse.ArchiveTable(v.Table)))
	}
	move(3, true) // today-5 (the late line), today-4 and today-3 copied, still hot

	both := today.AddDate(0, 0, -4) // today-4 and today-3: whole days in both tiers
	for _, v := range tables {
		_, short, _ := strings.Cut(v.Name, ".")
		view := g.goldSchema + "." + short
		hot := env.Count(t, env.NS.Table(v.Table))
		arch := env.Count(t, env.NS.Table(lakehouse.ArchiveTable(v.Table)))
		if hot+arch <= want[v.Table] {
			t.Fatalf("%s: hot %d + archive %d, want more than the %d rows: no row is in both tiers, the test checks nothing", v.Table, hot, arch, want[v.Table])
		}
		check(t, db, v.Name+" per tier", fmt.Sprintf("SELECT tier, count(*) FROM %s GROUP BY tier", view),
			[]string{fmt.Sprintf("hot|%d", hot), fmt.Sprintf("archive|%d", want[v.Table]-hot)}, false)
		// A dashboard's time range over the days in both tiers sees them
		// once, from hot.
		rng := fmt.Sprintf("event_ts >= from_iso8601_timestamp('%s') AND event_ts < from_iso8601_timestamp('%s')",
			both.Format(time.RFC3339), both.AddDate(0, 0, 2).Format(time.RFC3339))
		var inHot int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s.%s WHERE %s", env.NS.Silver, strings.TrimSuffix(short, "_all"), rng)).Scan(&inHot); err != nil {
			t.Fatal(err)
		}
		check(t, db, v.Name+" days in both tiers", fmt.Sprintf("SELECT tier, count(*) FROM %s WHERE %s GROUP BY tier", view, rng),
			[]string{fmt.Sprintf("hot|%d", inHot)}, false)
	}
	check(t, db, "logs_all late line", fmt.Sprintf("SELECT tier, message FROM %s.logs_all WHERE action_id = 'late-action'", g.goldSchema),
		[]string{"hot|late line"}, true)
}

// silverWithUnionViews loads silver with generated records from the start
// of the day days ago to an hour ago (rate records/s, no faults) and
// applies the hot ∪ archive union views; it returns now and today's start.
func (g *goldEnv) silverWithUnionViews(t *testing.T, days int, rate float64) (now, today time.Time) {
	t.Helper()
	now = time.Now().UTC()
	today = now.Truncate(24 * time.Hour)
	recs, _ := silvertest.Generate(t, today.AddDate(0, 0, -days), now.Add(-time.Hour), rate, generate.FaultRates{},
		func(c *generate.Config) { c.MetricInterval = 4 * time.Hour; c.AnomalyEvery = 24 * time.Hour })
	g.Env.LoadBronze(t, recs, now)
	if _, err := g.job.Run(context.Background(), silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	var views []*Definition
	for _, d := range g.defs {
		if strings.HasSuffix(d.Name, "_all") {
			views = append(views, d)
		}
	}
	if _, err := g.runner.Apply(context.Background(), views); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return now, today
}
