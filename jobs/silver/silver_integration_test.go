//go:build integration

package silver_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"weir/events"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// Against the local stack (source .stack/env.sh first):
//
//	go test -tags integration -run Silver ./jobs/silver
//
// Every test works in namespaces of its own (silvertest.New).

var faults = generate.FaultRates{Malformed: 0.01, NonUTF8: 0.005, Duplicate: 0.03, OutOfOrder: 0.01, Future: 0.005}

// summaryTables maps a generator summary's topics to their silver tables.
var summaryTables = map[string]string{
	events.TopicWebAccess: lakehouse.SilverAccessLogs,
	events.TopicAppEvents: lakehouse.SilverEvents,
	events.TopicAppLogs:   lakehouse.SilverLogs,
	events.TopicMetrics:   lakehouse.SilverMetrics,
	events.TopicDimItems:  lakehouse.SilverDimItems,
	"dims.providers":      lakehouse.SilverDimProviders,
}

// expect checks every silver table against the generator summary.
func expect(t *testing.T, env *silvertest.Env, sum *generate.Summary) {
	t.Helper()
	tables := summaryTables
	var rejected int64
	for topic, ts := range sum.Topics {
		rejected += ts.Rejected
		name, ok := tables[topic]
		if !ok {
			t.Errorf("summary topic %s has no silver table", topic)
			continue
		}
		if got := env.Count(t, env.NS.Table(name)); got != ts.SilverRows {
			t.Errorf("%s: %d rows, summary expects %d (valid %d, future %d, duplicates %d)", name, got, ts.SilverRows, ts.Valid, ts.Future, ts.Duplicates)
		}
	}
	if got := env.Count(t, env.NS.Table(lakehouse.SilverRejects)); got != rejected || got != sum.Rejected {
		t.Errorf("rejects: %d rows, summary has %d rejected (malformed %d + non-UTF-8 %d + future %d)", got, sum.Rejected,
			sum.FaultCounts[generate.FaultMalformed], sum.FaultCounts[generate.FaultNonUTF8], sum.Future)
	}
}

func runAll(t *testing.T, job *silver.Job) []silver.Result {
	t.Helper()
	res, err := job.Run(context.Background(), silver.SourceAll)
	if err != nil {
		t.Fatalf("silver run: %v", err)
	}
	return res
}

func snapshotIDs(t *testing.T, env *silvertest.Env) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, name := range lakehouse.SilverTables {
		tbl, err := env.Lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(env.NS.Table(name)))
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		if s := tbl.CurrentSnapshot(); s != nil {
			out[name] = s.SnapshotID
		}
	}
	return out
}

// TestSilverExactIncrementalRerun: generated input with duplicates,
// malformed, non-UTF-8, late and future records lands in bronze in two
// commits with a silver run after each; silver then holds exactly what the
// generator summary expects, and a re-run changes nothing.
func TestSilverExactIncrementalRerun(t *testing.T) {
	env := silvertest.New(t)
	end := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-30*time.Minute), end, 15, faults)
	t.Logf("generated %d records, faults %v", len(recs), sum.FaultCounts)

	job := silver.New(env.Lake, silver.Config{Namespaces: env.NS, ChunkRows: 5000})
	half := len(recs) / 2
	env.LoadBronze(t, recs[:half], time.Now())
	runAll(t, job)
	env.LoadBronze(t, recs[half:], time.Now())
	res := runAll(t, job)

	expect(t, env, sum)
	// The future faults (stamped a day or more after the run's end, which
	// is near the clock) are quarantined, none in a hot table.
	var future int64
	for _, r := range res {
		future += r.Future
	}
	rejects, flagged := countFuture(t, env)
	if rejects != sum.Future || sum.Future != sum.FaultCounts[generate.FaultFuture] || flagged != 0 {
		t.Errorf("future rejects %d, is_future rows %d; want the summary's %d future (%d future faults), none flagged",
			rejects, flagged, sum.Future, sum.FaultCounts[generate.FaultFuture])
	}
	if future == 0 || future > rejects {
		t.Errorf("the second run reported %d future rejects of %d", future, rejects)
	}

	checkSorted(t, env)

	before := snapshotIDs(t, env)
	again := runAll(t, job)
	for _, r := range again {
		if r.Rows != 0 && r.Source != silver.SourceDims || r.Rejects != 0 || r.Chunks != 0 {
			t.Errorf("re-run of %s did work: %+v", r.Source, r)
		}
	}
	if after := snapshotIDs(t, env); len(after) != len(before) {
		t.Errorf("re-run changed tables: %v → %v", before, after)
	} else {
		for k, v := range before {
			if after[k] != v {
				t.Errorf("re-run committed to %s", k)
			}
		}
	}
	expect(t, env, sum)
}

// TestSilverConcurrentRuns: two jobs build the same source at the same
// time, twice over; silver is still exact.
func TestSilverConcurrentRuns(t *testing.T) {
	env := silvertest.New(t)
	end := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-20*time.Minute), end, 15, faults)
	third := len(recs) / 3
	env.LoadBronze(t, recs[:third], time.Now())
	env.LoadBronze(t, recs[third:2*third], time.Now())
	env.LoadBronze(t, recs[2*third:], time.Now())

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job := silver.New(env.Lake, silver.Config{Namespaces: env.NS, ChunkRows: 3000})
			if _, err := job.Run(context.Background(), silver.SourceAll); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent run: %v", err)
	}
	expect(t, env, sum)
}

// countFuture counts the rejects of class future, and the silver rows
// flagged is_future (which must be none).
func countFuture(t *testing.T, env *silvertest.Env) (rejects, flagged int64) {
	t.Helper()
	ctx := context.Background()
	load := func(name string) *table.Table {
		tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(env.NS.Table(name)))
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		return tbl
	}
	rejects, err := silvertest.CountWhereEqual(ctx, load(lakehouse.SilverRejects), lakehouse.ColErrorClass, lakehouse.RejectFuture)
	if err != nil {
		t.Fatalf("count future rejects: %v", err)
	}
	for _, name := range []string{lakehouse.SilverAccessLogs, lakehouse.SilverEvents, lakehouse.SilverLogs, lakehouse.SilverMetrics} {
		got, err := silvertest.CountWhereTrue(ctx, load(name), lakehouse.ColIsFuture)
		if err != nil {
			t.Fatalf("count future in %s: %v", name, err)
		}
		flagged += got
	}
	return rejects, flagged
}

// checkSorted: every data file of silver.access_logs is sorted by the
// table's sort order (event_ts, client_ip). iceberg-go sorts each batch it
// writes, so only files of more than one batch (a partition of over 64k
// rows in a run, as in BenchmarkSilver) test the job's own ordering.
func checkSorted(t *testing.T, env *silvertest.Env) {
	t.Helper()
	ctx := context.Background()
	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(env.NS.Table(lakehouse.SilverAccessLogs)))
	if err != nil {
		t.Fatalf("load access logs: %v", err)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatalf("plan access logs: %v", err)
	}
	for _, task := range tasks {
		_, recs, err := tbl.Scan(table.WithSelectedFields(lakehouse.ColEventTS, "client_ip")).ReadTasks(ctx, []table.FileScanTask{task})
		if err != nil {
			t.Fatalf("read %s: %v", task.File.FilePath(), err)
		}
		var (
			lastTS       int64 = math.MinInt64
			lastIP       string
			rows, unsort int
		)
		for rec, err := range recs {
			if err != nil {
				t.Fatalf("read %s: %v", task.File.FilePath(), err)
			}
			ts, ip := rec.Column(0).(*array.Timestamp), rec.Column(1).(*array.String)
			for i := range int(rec.NumRows()) {
				tv, iv := int64(ts.Value(i)), ip.Value(i)
				if tv < lastTS || tv == lastTS && iv < lastIP {
					unsort++
				}
				lastTS, lastIP = tv, iv
				rows++
			}
			rec.Release()
		}
		if unsort > 0 {
			t.Errorf("%s: %d of %d rows out of sort order", task.File.FilePath(), unsort, rows)
		}
	}
}

// createOldTable creates the silver table canon as an older weir did: its
// current schema edited by old (a column left out, a column required).
func createOldTable(t *testing.T, env *silvertest.Env, canon string, old func([]iceberg.NestedField) []iceberg.NestedField) string {
	t.Helper()
	spec, err := lakehouse.SilverTableSpec(canon)
	if err != nil {
		t.Fatal(err)
	}
	before := *spec
	before.Schema = iceberg.NewSchema(0, old(spec.Schema.Fields())...)
	name := env.NS.Table(canon)
	ns, short, _ := strings.Cut(name, ".")
	before.Location = env.Lake.TableLocation(ns, short)
	if _, err := lakehouse.LoadOrCreate(context.Background(), env.Lake.Catalog, lakehouse.Ident(name), &before); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestSilverEvolvesOldTable: a silver.events table created before app.events
// had order_id (the column appended by schema evolution, so it sits after
// the lineage columns) takes new rows: old rows keep a null order_id, new
// buys carry theirs, and the counts stay exact.
func TestSilverEvolvesOldTable(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	name := createOldTable(t, env, lakehouse.SilverEvents, func(fields []iceberg.NestedField) []iceberg.NestedField {
		return slices.DeleteFunc(fields, func(f iceberg.NestedField) bool { return f.Name == "order_id" })
	})

	end := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-20*time.Minute), end, 15, faults)
	env.LoadBronze(t, recs, time.Now())
	runAll(t, silver.New(env.Lake, silver.Config{Namespaces: env.NS, ChunkRows: 5000}))
	expect(t, env, sum)

	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	if cols := tbl.Schema().Fields(); cols[len(cols)-1].Name != "order_id" {
		t.Fatalf("order_id not appended by evolution: %v", tbl.Schema())
	}
	withOrder, err := silvertest.CountNotNull(ctx, tbl, "order_id")
	if err != nil {
		t.Fatal(err)
	}
	if withOrder == 0 {
		t.Error("no row carries an order_id after the upgrade")
	}
}

// TestSilverEvolvesOldAccessTable: a silver.access_logs table from before
// truncated lines were kept (bytes required, no parse_issue) takes cut
// lines: bytes becomes optional, parse_issue is appended, and the cut lines
// land with null bytes and their issue.
func TestSilverEvolvesOldAccessTable(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	name := createOldTable(t, env, lakehouse.SilverAccessLogs, func(fields []iceberg.NestedField) []iceberg.NestedField {
		fields = slices.DeleteFunc(fields, func(f iceberg.NestedField) bool { return f.Name == "parse_issue" })
		for i := range fields {
			if fields[i].Name == "bytes" {
				fields[i].Required = true
			}
		}
		return fields
	})
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	whole := events.AccessLog{ClientIP: "10.1.2.3", Time: at, Method: "GET", Path: "/files/a.tar.gz", Protocol: "HTTP/1.1",
		Status: 200, Bytes: 512, Referrer: "https://example.com/", UserAgent: "curl/8", RequestTimeMs: events.NoRequestTime}
	line := string(whole.AppendLine(nil))
	recs := []silvertest.Record{
		{Topic: events.TopicWebAccess, Value: []byte(line)},
		{Topic: events.TopicWebAccess, Value: []byte(line[:strings.Index(line, " 512")])},        // cut after the status
		{Topic: events.TopicWebAccess, Value: []byte(line[:strings.Index(line, "example.com")])}, // inside the referrer
		{Topic: events.TopicWebAccess, Value: []byte(line[:len(line)-2])},                        // inside the user agent
		{Topic: events.TopicWebAccess, Value: []byte(line[:strings.Index(line, "\"GET")])},       // no request: a reject
	}
	env.LoadBronze(t, recs, time.Now())
	runAll(t, silver.New(env.Lake, silver.Config{Namespaces: env.NS}))

	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := tbl.Schema().FindFieldByName("bytes"); !ok || f.Required {
		t.Errorf("bytes not made optional: %v", tbl.Schema())
	}
	for _, tc := range []struct {
		col  string
		want int64
	}{{"bytes", 3}, {"parse_issue", 3}, {"referrer", 2}, {"user_agent", 1}} {
		if got, err := silvertest.CountNotNull(ctx, tbl, tc.col); err != nil || got != tc.want {
			t.Errorf("%s not null in %d rows (%v), want %d", tc.col, got, err, tc.want)
		}
	}
	if got := env.Count(t, env.NS.Table(lakehouse.SilverRejects)); got != 1 {
		t.Errorf("rejects: %d, want the line without a request", got)
	}
}

// TestSilverUndecodableDimensions: dims.* records that do not decode (not
// JSON, not UTF-8, a required field missing, an unknown dimension topic) go
// to silver.rejects with their class; the valid ones and a tombstone still
// shape the dimension tables, and nothing is lost: dims + rejects = bronze.
func TestSilverUndecodableDimensions(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	recs := []silvertest.Record{
		{Topic: events.TopicDimItems, Key: []byte("i1"), Value: []byte(`{"item":"i1","category":"books","price":3.5}`)},
		{Topic: events.TopicDimItems, Key: []byte("i2"), Value: []byte(`{"item":"i2","category":"toys","price":1}`)},
		{Topic: events.TopicDimItems, Key: []byte("i2"), Value: nil},                                                // tombstone: i2 is gone
		{Topic: events.TopicDimItems, Key: []byte("i3"), Value: []byte(`{"item":"i3","categ`)},                      // cut: syntax
		{Topic: events.TopicDimItems, Key: []byte("i4"), Value: []byte("{\"item\":\"i4\xff\",\"category\":\"x\"}")}, // not UTF-8
		{Topic: events.TopicDimItems, Key: []byte("i5"), Value: []byte(`{"category":"books","price":2}`)},           // no item
		{Topic: events.TopicDimProviders, Key: []byte("p1"), Value: []byte(`{"provider":"p1","name":"P","kind":"card"}`)},
		{Topic: events.TopicDimProviders, Key: []byte("p2"), Value: []byte(`not json`)},
		{Topic: "dims.unknown", Key: []byte("u"), Value: []byte(`{"u":1}`)},
	}
	env.LoadBronze(t, recs, time.Now())
	runAll(t, silver.New(env.Lake, silver.Config{Namespaces: env.NS}))

	if got := env.Count(t, env.NS.Table(lakehouse.SilverDimItems)); got != 1 {
		t.Errorf("dim_items: %d rows, want 1 (i1; i2 deleted by its tombstone)", got)
	}
	if got := env.Count(t, env.NS.Table(lakehouse.SilverDimProviders)); got != 1 {
		t.Errorf("dim_providers: %d rows, want 1", got)
	}
	if got := env.Count(t, env.NS.Table(lakehouse.SilverRejects)); got != 5 {
		t.Errorf("rejects: %d rows, want the 5 undecodable dimension records", got)
	}
	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(env.NS.Table(lakehouse.SilverRejects)))
	if err != nil {
		t.Fatal(err)
	}
	for class, want := range map[string]int64{lakehouse.RejectSyntax: 2, lakehouse.RejectNotUTF8: 1, lakehouse.RejectMissing: 1} {
		if got, err := silvertest.CountWhereEqual(ctx, tbl, lakehouse.ColErrorClass, class); err != nil || got != want {
			t.Errorf("rejects of class %s: %d (%v), want %d", class, got, err, want)
		}
	}
}
