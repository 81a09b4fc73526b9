//go:build integration

package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"weir/jobs/archive"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// Against the local stack (source .stack/env.sh first):
//
//	go test -tags integration ./jobs/archive

var tables = []string{lakehouse.SilverAccessLogs, lakehouse.SilverEvents, lakehouse.SilverLogs, lakehouse.SilverMetrics}

// visible counts what the union view shows: hot rows plus archive rows
// whose key hot lacks (the archive package invariant).
func visible(t *testing.T, env *silvertest.Env, canon string) (hot, arch, union int64) {
	t.Helper()
	ctx := context.Background()
	keys := func(name string) map[string]struct{} {
		tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
		if err != nil {
			return map[string]struct{}{}
		}
		ks, err := archive.Keys(ctx, tbl, lakehouse.SilverKey(canon), iceberg.AlwaysTrue{})
		if err != nil {
			t.Fatalf("keys of %s: %v", name, err)
		}
		return ks
	}
	h := keys(env.NS.Table(canon))
	a := keys(env.NS.Table(lakehouse.ArchiveTable(canon)))
	union = int64(len(h))
	for k := range a {
		if _, ok := h[k]; !ok {
			union++
		}
	}
	return env.Count(t, env.NS.Table(canon)), env.Count(t, env.NS.Table(lakehouse.ArchiveTable(canon))), union
}

func oldest(t *testing.T, env *silvertest.Env, name string) time.Time {
	t.Helper()
	tbl, err := env.Lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields(lakehouse.ColEventTS)).ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	min := time.Now().AddDate(10, 0, 0)
	for rec, err := range recs {
		if err != nil {
			t.Fatal(err)
		}
		col := rec.Column(0)
		for i := 0; i < col.Len(); i++ {
			if ts, ok := archive.TimestampAt(col, i); ok && ts.Before(min) {
				min = ts
			}
		}
		rec.Release()
	}
	return min
}

type crash struct{}

// TestArchiveFortyDaysKilledHalfway: a 40-day history is built into
// silver; the archive job is killed between its copy and its delete (the
// union still shows every row once), then rerun: hot holds the last 30
// days, archive the rest, the union equals the input.
func TestArchiveFortyDaysKilledHalfway(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	end := now.Add(-time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.AddDate(0, 0, -40), end, 0.02, generate.FaultRates{Duplicate: 0.02, OutOfOrder: 0.01, Malformed: 0.01},
		func(c *generate.Config) { c.MetricInterval = 2 * time.Hour; c.AnomalyEvery = 24 * time.Hour })
	t.Logf("generated %d records over 40 days", len(recs))
	env.LoadBronze(t, recs, now)
	if _, err := silver.New(env.Lake, silver.Config{Namespaces: env.NS}).Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, canon := range tables {
		h, _, _ := visible(t, env, canon)
		want[canon] = h
	}
	if got := want[lakehouse.SilverEvents]; got != sum.Topics["app.events"].SilverRows {
		t.Fatalf("silver.events holds %d rows, summary says %d", got, sum.Topics["app.events"].SilverRows)
	}

	cfg := archive.Config{Namespaces: env.NS, Tables: tables, Now: func() time.Time { return now },
		Crash: func(point string) {
			if point == archive.CrashAfterCopy {
				panic(crash{})
			}
		}}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(crash); !ok {
					panic(r)
				}
			}
		}()
		_, err := archive.New(env.Lake, cfg).Run(ctx)
		t.Fatalf("archive run was not killed: %v", err)
	}()
	// Killed after the first table's copy: its rows are in both tiers,
	// the union still shows each once.
	h, a, u := visible(t, env, tables[0])
	if a == 0 || h+a <= want[tables[0]] {
		t.Errorf("after the kill: hot %d + archive %d, expected rows in both", h, a)
	}
	if u != want[tables[0]] {
		t.Errorf("after the kill: union shows %d rows of %s, want %d", u, tables[0], want[tables[0]])
	}

	cfg.Crash = nil
	reps, err := archive.New(env.Lake, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cutoff := archive.Cutoff(now, 30)
	for _, r := range reps {
		t.Logf("%+v", r)
	}
	for _, canon := range tables {
		h, a, u := visible(t, env, canon)
		if h+a != want[canon] || u != want[canon] {
			t.Errorf("%s: hot %d + archive %d (union %d), want %d", canon, h, a, u, want[canon])
		}
		if a == 0 {
			t.Errorf("%s: nothing archived", canon)
		}
		if o := oldest(t, env, env.NS.Table(canon)); o.Before(cutoff) {
			t.Errorf("%s: hot still holds %v, before the cutoff %v", canon, o, cutoff)
		}
	}
	// A third run has nothing to move.
	reps, err = archive.New(env.Lake, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if r.Rows != 0 {
			t.Errorf("re-run moved %d rows of %s", r.Rows, r.Table)
		}
	}
}
