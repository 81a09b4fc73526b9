package gold

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	goldsql "weir/sql/gold"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ name, a, b string }{
		{"layout and case", "SELECT a,\n  b FROM  t -- c\nWHERE x = 1;", "select a, b from t where x=1"},
		{"block comment", "SELECT /* hi */ 1", "select 1"},
		{"strings kept", "SELECT 'A  B' FROM t", "select 'A  B' from t"},
		{"quoted identifiers kept", `SELECT "Mixed Case" FROM t`, `select "Mixed Case" from t`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if Normalize(tc.a) != Normalize(tc.b) {
				t.Errorf("Normalize differs:\n%q\n%q", Normalize(tc.a), Normalize(tc.b))
			}
		})
	}
	if Normalize("SELECT 'a b'") == Normalize("SELECT 'a  b'") {
		t.Error("string literal contents must matter")
	}
	if Fingerprint("select 1") == Fingerprint("select 2") {
		t.Error("fingerprints must differ")
	}
}

func TestRenameSchemas(t *testing.T) {
	in := "SELECT s.x, 'silver.events' FROM silver.events s JOIN gold.r ON iceberg.silver.y = 1 -- silver.z\nWHERE silver.events.a = 1"
	want := "SELECT s.x, 'silver.events' FROM it_silver.events s JOIN it_gold.r ON iceberg.silver.y = 1 -- silver.z\nWHERE it_silver.events.a = 1"
	if got := renameSchemas(in, map[string]string{"silver": "it_silver", "gold": "it_gold"}); got != want {
		t.Errorf("renameSchemas =\n%s\nwant\n%s", got, want)
	}
}

func TestReplaceTables(t *testing.T) {
	sub := map[string]string{"silver.events": "SELECT * FROM silver.events WHERE d"}
	for _, tc := range []struct{ name, in, want string }{
		{"aliased", "SELECT 1 FROM silver.events e WHERE x", "SELECT 1 FROM (SELECT * FROM silver.events WHERE d) e WHERE x"},
		{"unaliased", "SELECT 1 FROM silver.events\nWHERE x", "SELECT 1 FROM (SELECT * FROM silver.events WHERE d) events\nWHERE x"},
		{"before group", "SELECT 1 FROM silver.events GROUP BY 1", "SELECT 1 FROM (SELECT * FROM silver.events WHERE d) events GROUP BY 1"},
		{"other table untouched", "SELECT 1 FROM silver.logs", "SELECT 1 FROM silver.logs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := replaceTables(tc.in, sub); got != tc.want {
				t.Errorf("replaceTables =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestCatalogTables(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"from and join", "SELECT 1 FROM scheduler.public.dag_runs r JOIN scheduler.public.task_instances t ON t.run_pk = r.id", "scheduler.public.dag_runs,scheduler.public.task_instances"},
		{"quoted and repeated", `SELECT 1 FROM "Sched".public."Runs" UNION ALL SELECT 1 FROM sched.public.runs`, "sched.public.runs"},
		{"two-part names are the lakehouse's", "SELECT 1 FROM silver.events e JOIN gold.x ON true", ""},
		{"row fields are not tables", "SELECT r.params.who FROM silver.events r", ""},
		{"comments skipped", "SELECT 1 FROM -- scheduler.public.nope\n silver.events", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(catalogTables(tc.in), ","); got != tc.want {
				t.Errorf("catalogTables = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadShippedSQL(t *testing.T) {
	defs, err := Load(goldsql.FS)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, d := range defs {
		pos[d.Name] = i
		if d.Description == "" {
			t.Errorf("%s: no description comment", d.File)
		}
	}
	for _, d := range defs {
		for _, dep := range d.Deps {
			if i, ok := pos[dep]; ok && i > pos[d.Name] {
				t.Errorf("%s comes before its dependency %s", d.Name, dep)
			}
		}
	}
	// Golden: the apply order, kinds and what each object reads.
	var b strings.Builder
	for _, d := range defs {
		b.WriteString(string(d.Kind) + " " + d.Name + " <- " + strings.Join(append(append([]string{}, d.Sources...), d.Deps...), ", "))
		if d.Kind == KindRollup {
			b.WriteString(" key=" + strings.Join(d.Key, ","))
		}
		if d.Kind == KindSnapshot {
			b.WriteString(" every=" + d.Every.String())
		}
		b.WriteString("\n")
	}
	golden(t, "definitions.golden", b.String())
}

func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"unknown gold ref", fstest.MapFS{"a.sql": {Data: []byte("-- a\nSELECT * FROM gold.b")}}, "no file defines"},
		{"cycle", fstest.MapFS{"a.sql": {Data: []byte("SELECT * FROM gold.b")}, "b.sql": {Data: []byte("SELECT * FROM gold.a")}}, "cycle"},
		{"two statements", fstest.MapFS{"a.sql": {Data: []byte("SELECT 1; SELECT 2")}}, "one statement"},
		{"bad name", fstest.MapFS{"A-b.sql": {Data: []byte("SELECT 1")}}, "lower-case identifier"},
		{"view directive", fstest.MapFS{"a.sql": {Data: []byte("-- @key: x\nSELECT 1")}}, "only rollups"},
		{"rollup without key", fstest.MapFS{"rollups/r.sql": {Data: []byte("-- @time: event_ts\nSELECT 1 FROM silver.events")}}, "needs @key"},
		{"rollup reading gold", fstest.MapFS{
			"v.sql":         {Data: []byte("SELECT 1 FROM silver.events")},
			"rollups/r.sql": {Data: []byte("-- @key: a\n-- @time: event_ts\nSELECT 1 FROM silver.events JOIN gold.v ON true")}}, "reads silver, not gold"},
		{"rollup reading another catalog", fstest.MapFS{"rollups/r.sql": {Data: []byte("-- @key: a\n-- @time: event_ts\nSELECT 1 FROM silver.events JOIN scheduler.public.dag_runs ON true")}}, "reads the lakehouse only"},
		{"duplicate", fstest.MapFS{"a.sql": {Data: []byte("SELECT 1 FROM silver.x")}, "rollups/a.sql": {Data: []byte("-- @key: a\n-- @time: t\nSELECT 1 FROM silver.x")}}, "defined twice"},
		{"snapshot without every", fstest.MapFS{"snapshots/s.sql": {Data: []byte("SELECT 1 FROM silver.x")}}, "needs @every"},
		{"snapshot with a rollup directive", fstest.MapFS{"snapshots/s.sql": {Data: []byte("-- @every: 1m\n-- @key: a\nSELECT 1 FROM silver.x")}}, "snapshots @every"},
		{"snapshot every too short", fstest.MapFS{"snapshots/s.sql": {Data: []byte("-- @every: 10ms\nSELECT 1 FROM silver.x")}}, "from 1s to 24h"},
		{"rollup with every", fstest.MapFS{"rollups/r.sql": {Data: []byte("-- @every: 1m\n-- @key: a\n-- @time: t\nSELECT 1 FROM silver.x")}}, "only snapshots"},
		{"view with every", fstest.MapFS{"a.sql": {Data: []byte("-- @every: 1m\nSELECT 1")}}, "only rollups"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestDayFilter(t *testing.T) {
	got := dayFilter(`"event_ts"`, []string{"2026-11-01", "2026-11-02", "2026-11-05"})
	want := `(("event_ts" >= TIMESTAMP '2026-11-01 00:00:00 UTC' AND "event_ts" < TIMESTAMP '2026-11-03 00:00:00 UTC') OR ("event_ts" >= TIMESTAMP '2026-11-05 00:00:00 UTC' AND "event_ts" < TIMESTAMP '2026-11-06 00:00:00 UTC'))`
	if got != want {
		t.Errorf("dayFilter =\n%s\nwant\n%s", got, want)
	}
}

// A MERGE reads the rollup's partitions of the days or slices it
// recomputes (date literals for a date column), and all of a rollup it
// cannot bound.
func TestTargetFilter(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	hourly := &Definition{Name: "h", Partitioning: []string{"day(hour)"}, TimeColumn: "event_ts", Slice: time.Hour}
	daily := &Definition{Name: "d", Partitioning: []string{"month(day)"}, TimeColumn: "event_ts"}
	window := &Definition{Name: "w", Partitioning: []string{"day(window_start)"}, TimeColumn: "event_ts", WindowColumn: "window_start", WindowSize: time.Minute, Slice: 15 * time.Minute}
	for _, tc := range []struct {
		name string
		job  *refreshJob
		want string
	}{
		{"slices", &refreshJob{d: hourly, partCol: "hour", mergeSlices: []time.Time{at("2026-11-01T10:00:00Z"), at("2026-11-01T11:00:00Z")}},
			`((t."hour" >= TIMESTAMP '2026-11-01 10:00:00 UTC' AND t."hour" < TIMESTAMP '2026-11-01 12:00:00 UTC'))`},
		{"days", &refreshJob{d: hourly, partCol: "hour", mergeDays: []string{"2026-11-01"}},
			`((t."hour" >= TIMESTAMP '2026-11-01 00:00:00 UTC' AND t."hour" < TIMESTAMP '2026-11-02 00:00:00 UTC'))`},
		{"date column", &refreshJob{d: daily, partCol: "day", partDate: true, mergeDays: []string{"2026-11-01", "2026-11-02"}},
			`((t."day" >= DATE '2026-11-01' AND t."day" < DATE '2026-11-03'))`},
		{"window slices, no past", &refreshJob{d: window, partCol: "window_start", mergeSlices: []time.Time{at("2026-11-01T10:00:00Z")}},
			`((t."window_start" >= TIMESTAMP '2026-11-01 10:00:00 UTC' AND t."window_start" < TIMESTAMP '2026-11-01 10:15:00 UTC'))`},
		{"unpartitioned", &refreshJob{d: &Definition{Name: "u", TimeColumn: "event_ts"}, mergeDays: []string{"2026-11-01"}}, ""},
		{"window by another column", &refreshJob{d: window, partCol: "bucket", mergeDays: []string{"2026-11-01"}}, ""},
	} {
		if got := tc.job.targetFilter(); got != tc.want {
			t.Errorf("%s: targetFilter =\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
	cols := []column{{"hour", "timestamp(6) with time zone"}, {"day", "date"}, {"service", "varchar"}, {"user_id", "varchar"}, {"first_seen", "timestamp(6) with time zone"}}
	for p, want := range map[string]string{
		"day(hour)": "hour", "month(day)": "day", "day": "day",
		"bucket(16, user_id)": "", // not a time
		"service":             "", // a key, but not a time
		"day(first_seen)":     "", // a time, but not a key
	} {
		d := &Definition{Partitioning: []string{p}, Key: []string{"hour", "day", "service"}}
		if got, isDate := d.timePartition(cols); got != want || isDate != (want == "day") {
			t.Errorf("timePartition(%s) = %q, %v; want %q", p, got, isDate, want)
		}
	}
}

// A window rollup reads its sources a window past its days, and recomputes
// the day before each changed one (its late windows read the changed day).
func TestWindowDays(t *testing.T) {
	got := dayFilterPast(`"event_ts"`, []string{"2026-11-01", "2026-11-02"}, time.Minute)
	want := `(("event_ts" >= TIMESTAMP '2026-11-01 00:00:00 UTC' AND "event_ts" < TIMESTAMP '2026-11-03 00:00:00 UTC' + INTERVAL '60' SECOND))`
	if got != want {
		t.Errorf("dayFilterPast =\n%s\nwant\n%s", got, want)
	}
	if got, want := withDaysBefore([]string{"2026-11-01", "2026-11-05"}), []string{"2026-10-31", "2026-11-01", "2026-11-04", "2026-11-05"}; !slices.Equal(got, want) {
		t.Errorf("withDaysBefore = %v, want %v", got, want)
	}
}

func TestChangedDays(t *testing.T) {
	prev := dayCounts{"silver.events": {"2026-11-01": 10, "2026-11-02": 5, "2026-10-01": 3}}
	cur := dayCounts{"silver.events": {"2026-11-01": 10, "2026-11-02": 6, "2026-11-03": 1}, "silver.logs": {"2026-11-01": 2}}
	got := strings.Join(changedDays(prev, cur), ",")
	// 11-01 changed in logs (new source), 11-02 grew, 11-03 is new; 10-01
	// vanished (archived) and is not a change.
	if want := "2026-11-01,2026-11-02,2026-11-03"; got != want {
		t.Errorf("changedDays = %s, want %s", got, want)
	}
}

func TestPartitionDay(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`{"event_ts_day":"2026-11-21","service":"cart"}`, "2026-11-21", true},
		{`{"service":"cart","event_ts_day":"2026-11-21"}`, "2026-11-21", true},
		{`{"event_ts_hour":"2026-11-21T10:00"}`, "2026-11-21", true},
		{`{"service":"cart"}`, "", false},
		{`not json`, "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := partitionDay(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("partitionDay = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFingerprintTag(t *testing.T) {
	d := &Definition{Description: "Top IPs."}
	c := comment(d, "abc123")
	if got := fingerprintOf(c); got != "abc123" {
		t.Errorf("fingerprintOf(%q) = %q", c, got)
	}
	if fingerprintOf("no tag") != "" {
		t.Error("untagged comment must have no fingerprint")
	}
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update if intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCreateComment(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CREATE VIEW g.v COMMENT 'it''s [weir:fingerprint=ab]' SECURITY DEFINER AS\nSELECT 'x' COMMENT", "it's [weir:fingerprint=ab]"},
		{"CREATE TABLE g.t (\n   day date\n)\nCOMMENT 'rollup'\nWITH (format = 'PARQUET')", "rollup"},
		{"CREATE VIEW g.v SECURITY DEFINER AS SELECT 1 AS comment", ""},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := createComment(tc.in); got != tc.want {
				t.Errorf("createComment = %q, want %q", got, tc.want)
			}
		})
	}
}
