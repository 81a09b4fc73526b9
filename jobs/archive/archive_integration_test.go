//go:build integration

package archive_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"weir/events"
	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/jobs/archive"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// TestMain removes the weir binary the tests built.
func TestMain(m *testing.M) { stacktest.Main(m) }

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

// TestArchiveFortyDaysKilledHalfway: a 40-day history is built into
// silver; the archive process is killed between its copy and its delete
// and inside its commits (the union still shows every row once), then
// rerun: hot holds the last 30
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

	// The real `weir batch archive` process is killed at each point: after
	// a table's copy and before its delete, and inside its commits. After
	// every kill the union still shows every row exactly once.
	bin := stacktest.Weir(t)
	args := append([]string{"batch", "archive"}, env.NamespaceArgs()...)
	for _, canon := range tables {
		args = append(args, "--table", canon)
	}
	kills := map[string]int{}
	for i, point := range []string{archive.CrashAfterCopy, lakehouse.PointCommitBuilt, lakehouse.PointMetadataWritten,
		lakehouse.PointCommitted, archive.CrashAfterCopy, lakehouse.PointCommitted} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "WEIR_KILL_POINT="+point, fmt.Sprintf("WEIR_KILL_AFTER=%d", 1+i%2))
		out, err := cmd.CombinedOutput()
		if !stacktest.KilledBySIGKILL(err) {
			t.Logf("round %d: not killed at %s (%v): %s", i, point, err, out)
			continue
		}
		kills[point]++
		for _, canon := range tables {
			if _, _, u := visible(t, env, canon); u != want[canon] {
				t.Errorf("after a kill at %s: union shows %d rows of %s, want %d", point, u, canon, want[canon])
			}
		}
	}
	if kills[archive.CrashAfterCopy] == 0 || kills[lakehouse.PointMetadataWritten] == 0 {
		t.Errorf("kills %v: the copy/delete gap and the catalog's compare-and-swap were not both hit", kills)
	}
	t.Logf("kills %v", kills)

	cfg := archive.Config{Namespaces: env.NS, Tables: tables, Now: func() time.Time { return now }}
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
	var total int64
	for _, canon := range tables {
		total += want[canon]
	}
	for point, n := range kills {
		if err := faultreport.Record(faultreport.Entry{Test: t.Name(), Fault: "weir batch archive killed at " + point,
			Injected: "SIGKILL by the process itself (WEIR_KILL_POINT), 40 days moved to the archive tier", Times: n,
			Expected: total, Stored: total}); err != nil {
			t.Error(err)
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

// TestArchiveHoldsOneDayOfKeys: a late log line lands in hot for a day
// already archived. The next move reads only that day's archive keys
// (Report.KeysHeld), not the keys of the whole archive as it did when it
// loaded them all up front, and still moves the line once.
func TestArchiveHoldsOneDayOfKeys(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	end := now.Add(-time.Hour).Truncate(time.Minute)
	recs, _ := silvertest.Generate(t, end.AddDate(0, 0, -12), end, 0.01, generate.FaultRates{},
		func(c *generate.Config) { c.MetricInterval = 2 * time.Hour; c.AnomalyEvery = 24 * time.Hour })
	env.LoadBronze(t, recs, now)
	build := func() {
		if _, err := silver.New(env.Lake, silver.Config{Namespaces: env.NS}).Run(ctx, silver.SourceAppLogs); err != nil {
			t.Fatal(err)
		}
	}
	build()
	cfg := archive.Config{Namespaces: env.NS, Tables: []string{lakehouse.SilverLogs}, HotDays: 3, Now: func() time.Time { return now }}
	reps, err := archive.New(env.Lake, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reps[0].Rows == 0 {
		t.Fatal("the first move archived nothing")
	}

	day := now.Truncate(24*time.Hour).AddDate(0, 0, -8)
	line := events.AppLog{TS: day.Add(12 * time.Hour), Level: events.LevelInfo, Service: "late", Host: "h1", Message: "late line"}
	env.LoadBronze(t, []silvertest.Record{{Topic: events.TopicAppLogs, Key: []byte("late"), Value: line.AppendJSON(nil)}}, now)
	build()
	arch, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(env.NS.Table(lakehouse.ArchiveTable(lakehouse.SilverLogs))))
	if err != nil {
		t.Fatal(err)
	}
	oneDay := iceberg.NewAnd(iceberg.GreaterThanEqual(iceberg.Reference(lakehouse.ColEventTS), iceberg.Timestamp(day.UnixMicro())),
		iceberg.LessThan(iceberg.Reference(lakehouse.ColEventTS), iceberg.Timestamp(day.AddDate(0, 0, 1).UnixMicro())))
	dayKeys, err := archive.Keys(ctx, arch, lakehouse.SilverKey(lakehouse.SilverLogs), oneDay)
	if err != nil {
		t.Fatal(err)
	}
	all, err := archive.Keys(ctx, arch, lakehouse.SilverKey(lakehouse.SilverLogs), iceberg.AlwaysTrue{})
	if err != nil {
		t.Fatal(err)
	}

	reps, err = archive.New(env.Lake, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	t.Logf("second move: %+v; archive holds %d keys, %d of them on %s", r, len(all), len(dayKeys), day.Format(time.DateOnly))
	if r.Rows != 1 || r.Copied != 1 {
		t.Errorf("second move: %d rows, %d copied; want the late line once", r.Rows, r.Copied)
	}
	if r.KeysHeld != int64(len(dayKeys)) || len(dayKeys) == 0 || len(dayKeys) >= len(all) {
		t.Errorf("held %d archive keys; want those of its day (%d), not the archive's %d", r.KeysHeld, len(dayKeys), len(all))
	}
	if h, a, u := visible(t, env, lakehouse.SilverLogs); h+a != u {
		t.Errorf("hot %d + archive %d, union %d", h, a, u)
	}
}
