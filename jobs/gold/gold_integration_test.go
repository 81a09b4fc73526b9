//go:build integration

package gold

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/events"
	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/jobs/orders"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	goldsql "weir/sql/gold"
	"weir/trino"
)

// TestGoldAgainstGenerator builds bronze → silver → gold on namespaces of
// its own from two deterministic generator runs (the second one late, into
// days the first already covered), and checks every view's answer against
// the value computed in Go from the generator's records — parsed with the
// event model, never read back from silver.
func TestGoldAgainstGenerator(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	env, db, goldSchema, defs, runner, job := g.Env, g.db, g.goldSchema, g.defs, g.runner, g.job
	loadedAt := time.Now().UTC()

	// Batch 1: Sunday 22:00 to Monday 01:00, every anomaly kind.
	start := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	recs1, _ := silvertest.Generate(t, start, start.Add(3*time.Hour), 8, generate.DefaultFaults, func(c *generate.Config) {
		c.Seed, c.AnomalyEvery = 11, 30*time.Minute
	})
	recs1 = append(recs1, cutAccessLines(t, recs1)...)
	env.LoadBronze(t, recs1, loadedAt)
	if _, err := job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	res, err := runner.Apply(ctx, defs)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if s := Summary(res); s[Created] != len(defs) {
		t.Fatalf("first apply: %s, want %d created", SummaryLine(res), len(defs))
	}
	res, err = runner.Apply(ctx, defs)
	if err != nil || Summary(res)[Unchanged] != len(defs) {
		t.Fatalf("second apply: %s, %v; want all unchanged", SummaryLine(res), err)
	}
	m := newModel(loadedAt)
	m.add(recs1)
	t.Run("batch1", func(t *testing.T) { checkViews(t, db, goldSchema, m) })

	// Freshness: bronze's newest record from metadata (the kafka_ts upper
	// bounds in $partitions) is the newest one a scan finds.
	scan := func(table string) string {
		return fmt.Sprintf("SELECT '%s' AS t, max(kafka_ts) AS newest FROM %s.%s", table, env.NS.Bronze, table)
	}
	check(t, db, "pipeline_event_freshness bronze", fmt.Sprintf(`SELECT f.table_name, f.newest_event = r.newest
		FROM %s.pipeline_event_freshness f JOIN (%s UNION ALL %s UNION ALL %s UNION ALL %s) r ON f.table_name = r.t
		WHERE f.layer = 'bronze'`, goldSchema, scan("web_access"), scan("app_events"), scan("app_logs"), scan("infra_metrics")),
		[]string{"app_events|true", "app_logs|true", "infra_metrics|true", "web_access|true"}, false)

	// Ingest lag, from the ingest_minute rollup: per topic, the records
	// and the longest delay a scan of bronze finds.
	lagScan := func(table string) string {
		return fmt.Sprintf("SELECT topic, count(*) AS records, max(date_diff('millisecond', kafka_ts, ingested_at)) / 1e3 AS lag_max_s FROM %s.%s GROUP BY topic", env.NS.Bronze, table)
	}
	check(t, db, "pipeline_ingest_lag", fmt.Sprintf(`SELECT l.topic, l.records = r.records, l.lag_max_s = r.lag_max_s
		FROM (SELECT topic, sum(records) AS records, max(lag_max_s) AS lag_max_s FROM %s.pipeline_ingest_lag GROUP BY topic) l
		JOIN (%s UNION ALL %s UNION ALL %s UNION ALL %s) r ON l.topic = r.topic`,
		goldSchema, lagScan("web_access"), lagScan("app_events"), lagScan("app_logs"), lagScan("infra_metrics")),
		[]string{"app.events|true|true", "app.logs|true|true", "infra.metrics|true|true", "web.access|true|true"}, false)

	// gold.orders, the order marts' table that apply created, in storage
	// per tier: empty, then its rows once the marts ran.
	storage := fmt.Sprintf("SELECT rows, files > 0 FROM %s.pipeline_storage WHERE table_name = 'gold.orders'", goldSchema)
	check(t, db, "pipeline_storage gold.orders before the marts", storage, []string{"0|false"}, false)
	marts := orders.DefaultMartsConfig(g.cfg.Trino.Catalog)
	marts.Silver, marts.Gold = env.NS.Silver, goldSchema
	mres, err := orders.Marts(ctx, db, marts, slog.Default())
	if err != nil || mres.Orders == 0 {
		t.Fatalf("order marts: %+v, %v; want orders", mres, err)
	}
	check(t, db, "pipeline_storage gold.orders", storage, []string{fmt.Sprintf("%d|true", mres.Orders)}, false)

	// Batch 2, another seed, late: Sunday 23:30 to Monday 00:30.
	recs2, _ := silvertest.Generate(t, start.Add(90*time.Minute), start.Add(150*time.Minute), 8, generate.DefaultFaults, func(c *generate.Config) {
		c.Seed, c.AnomalyEvery = 12, 20*time.Minute
	})
	env.LoadBronze(t, recs2, loadedAt)
	if _, err := job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	res, err = runner.Refresh(ctx, defs)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	for _, r := range rollupResults(res) {
		// The late batch touched both days (and the clock-skewed records
		// their own days) of every rollup's source; a rollup by ingestion
		// time (ingest_minute, rejects_hourly) the one day it landed.
		want := 2
		if i := slices.IndexFunc(defs, func(d *Definition) bool { return d.Name == r.Name }); i >= 0 && defs[i].TimeColumn == "ingested_at" {
			want = 1
		}
		if r.Change != Refreshed || r.Days < want {
			t.Errorf("refresh %s: %s %d days, want refreshed ≥ %d days", r.Name, r.Change, r.Days, want)
		}
	}
	res, err = runner.Refresh(ctx, defs)
	if res = rollupResults(res); err != nil || Summary(res)[Unchanged] != len(res) {
		t.Fatalf("refresh without new data: %s, %v; want every rollup unchanged", SummaryLine(res), err)
	}
	m.add(recs2)
	t.Run("batch2", func(t *testing.T) {
		checkViews(t, db, goldSchema, m)
		goldenAnswers(t, db, goldSchema)
	})
}

// cutAccessLines returns copies of generated access lines cut as a log
// shipper cuts them (in the bytes, after them, inside the referrer or the
// user agent) and one with "-" bytes: silver keeps them with null bytes
// (and a parse_issue), and gold must leave those out of every byte figure.
func cutAccessLines(t *testing.T, recs []silvertest.Record) []silvertest.Record {
	t.Helper()
	var out []silvertest.Record
	for _, r := range recs {
		if r.Topic != events.TopicWebAccess {
			continue
		}
		a, err := events.ParseAccessLog(r.Value)
		if err != nil {
			continue
		}
		line := string(r.Value)
		status := strings.Index(line, fmt.Sprintf("\" %d ", a.Status)) + len(" 200 ") + 1
		ref := strings.Index(line[status:], `"`) + status
		for _, cut := range []string{
			line[:status-1],                     // right after the status
			line[:status+1],                     // inside the bytes
			line[:ref],                          // after the bytes
			line[:ref+5],                        // inside the referrer
			line[:strings.LastIndex(line, `"`)], // inside the user agent
			line[:status] + "-" + line[ref-1:],  // "-" bytes
		} {
			out = append(out, silvertest.Record{Topic: r.Topic, Key: r.Key, Value: []byte(cut)})
		}
		if len(out) >= 30 {
			break
		}
	}
	for _, r := range out {
		if _, err := events.ParseAccessLog(r.Value); err != nil {
			t.Fatalf("cut line %q: %v; want it parsed", r.Value, err)
		}
	}
	return out
}

// model is the independent computation: what silver must hold, from the
// generator's records.
type model struct {
	loadedAt time.Time
	access   []events.AccessLog
	events   map[string]events.AppEvent
	logs     []events.AppLog
	metrics  []events.Metric
	rejects  map[string]int64
}

func newModel(loadedAt time.Time) *model {
	return &model{loadedAt: loadedAt, events: map[string]events.AppEvent{}, rejects: map[string]int64{}}
}

// future mirrors silver's quarantine (event time more than max_future
// after ingestion, which the test loads at loadedAt): such records are
// rejects.
func (m *model) future(ts time.Time) bool { return ts.After(m.loadedAt.Add(events.DefaultMaxFuture)) }

func (m *model) add(recs []silvertest.Record) {
	for _, r := range recs {
		var (
			ts  time.Time
			err error
		)
		switch r.Topic {
		case events.TopicWebAccess:
			var a events.AccessLog
			if a, err = events.ParseAccessLog(r.Value); err == nil && !m.future(a.Time) {
				m.access = append(m.access, a)
			}
			ts = a.Time
		case events.TopicAppEvents:
			var e events.AppEvent
			if e, err = events.ParseAppEvent(r.Value); err == nil && !m.future(e.TS) {
				if _, dup := m.events[e.EventID]; !dup {
					m.events[e.EventID] = e
				}
			}
			ts = e.TS
		case events.TopicAppLogs:
			var l events.AppLog
			if l, err = events.ParseAppLog(r.Value); err == nil && !m.future(l.TS) {
				m.logs = append(m.logs, l)
			}
			ts = l.TS
		case events.TopicMetrics:
			var x events.Metric
			if x, err = events.ParseMetric(r.Value); err == nil && !m.future(x.TS) {
				m.metrics = append(m.metrics, x)
			}
			ts = x.TS
		default:
			continue
		}
		if err != nil || m.future(ts) {
			m.rejects[r.Topic]++
		}
	}
}

func (m *model) sortedEvents() []events.AppEvent {
	out := slices.Collect(maps.Values(m.events))
	slices.SortFunc(out, func(a, b events.AppEvent) int {
		return cmp.Or(a.TS.Compare(b.TS), strings.Compare(a.EventID, b.EventID))
	})
	return out
}

func bucket15(t time.Time) time.Time { return t.UTC().Truncate(15 * time.Minute) }

func grainBucket(grain string, t time.Time) time.Time {
	t = t.UTC()
	switch grain {
	case "15m":
		return t.Truncate(15 * time.Minute)
	case "1h":
		return t.Truncate(time.Hour)
	case "3h":
		return t.Truncate(3 * time.Hour)
	}
	return t.Truncate(24 * time.Hour)
}

const tsFmt = "2006-01-02 15:04:05"

// f2 formats a figure to two decimals, both the model's and Trino's. It
// snaps to three decimals first: an average that lies on a half cent
// (59.125) comes out 59.12499999 from one summation order and 59.12500001
// from another, and would print differently.
func f2(v float64) string { return fmt.Sprintf("%.2f", math.Round(v*1000)/1000) }

// check compares the rows a query returns with want, as lines of
// "|"-joined cells; ordered compares in order, else as sorted sets.
func check(t *testing.T, db *sql.DB, name, query string, want []string, ordered bool) {
	t.Helper()
	got := queryLines(t, db, query)
	if !ordered {
		sort.Strings(got)
		sort.Strings(want)
	}
	if len(want) == 0 {
		t.Errorf("%s: the expectation is empty; the dataset does not exercise the view", name)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: Trino and the generator disagree\n%s", name, diff(got, want))
	}
}

func diff(got, want []string) string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, x := range got {
		g[x] = true
	}
	for _, x := range want {
		w[x] = true
	}
	var b strings.Builder
	n := 0
	for _, x := range want {
		if !g[x] && n < 10 {
			fmt.Fprintf(&b, "  missing from Trino: %s\n", x)
			n++
		}
	}
	n = 0
	for _, x := range got {
		if !w[x] && n < 10 {
			fmt.Fprintf(&b, "  extra in Trino:     %s\n", x)
			n++
		}
	}
	fmt.Fprintf(&b, "  (%d rows from Trino, %d expected)", len(got), len(want))
	return b.String()
}

// rollupResults are the rollups' results among res (a refresh also
// reports its snapshots, taken by the clock: TestSnapshotRefresh).
func rollupResults(res []Result) []Result {
	var out []Result
	for _, r := range res {
		if r.Kind == KindRollup {
			out = append(out, r)
		}
	}
	return out
}

func queryLines(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	return queryLinesFloats(t, db, query, f2)
}

// queryLinesFloats is queryLines with doubles printed by float.
func queryLinesFloats(t *testing.T, db *sql.DB, query string, float func(float64) string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	var out []string
	err = trino.Values(rows, func(vals []any) error {
		cells := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case time.Time:
				cells[i] = x.UTC().Format(tsFmt)
			case float64:
				cells[i] = float(x)
			case nil:
				cells[i] = "NULL"
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(cells, "|"))
		return nil
	})
	if err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	return out
}

func checkViews(t *testing.T, db *sql.DB, g string, m *model) {
	q := func(s string) string { return strings.ReplaceAll(s, "gold.", g+".") }

	// §5.1 web-log questions.
	ipCount, endpoints := map[string]int64{}, map[string]int64{}
	days := map[string]bool{}
	type bstat struct{ n, logged, sum, min, max int64 }
	byClass := map[string]*bstat{}
	weekday4xx := map[time.Weekday]int64{}
	hourly := map[string]int64{} // "hour|status class" → requests
	for _, a := range m.access {
		hourly[a.Time.UTC().Format("2006-01-02 15")+"|"+events.StatusClass(a.Status)]++
		ipCount[a.ClientIP]++
		days[a.Time.UTC().Format(time.DateOnly)] = true
		if !events.IsStaticFile(a.Path) && a.Path != "" {
			ep := a.Path
			if i := strings.IndexAny(ep, "?#"); i >= 0 {
				ep = ep[:i]
			}
			endpoints[ep]++
		}
		cls := events.StatusClass(a.Status)
		b := byClass[cls]
		if b == nil {
			b = &bstat{}
			byClass[cls] = b
		}
		b.n++
		if a.HasBytes() { // "-" and cut bytes are null: not in sum, min, max, avg
			if b.logged == 0 {
				b.min, b.max = a.Bytes, a.Bytes
			}
			b.logged++
			b.sum += a.Bytes
			b.min, b.max = min(b.min, a.Bytes), max(b.max, a.Bytes)
		}
		if cls == "4xx" {
			weekday4xx[a.Time.UTC().Weekday()]++
		}
	}
	check(t, db, "web_top_client_ips", q("SELECT client_ip, requests FROM gold.web_top_client_ips ORDER BY requests DESC, client_ip"), topN(ipCount, 10), true)
	check(t, db, "web_top_endpoints", q("SELECT endpoint, requests FROM gold.web_top_endpoints ORDER BY requests DESC, endpoint"), topN(endpoints, 6), true)
	check(t, db, "web_distinct_client_ips", q("SELECT distinct_client_ips FROM gold.web_distinct_client_ips"), []string{fmt.Sprint(len(ipCount))}, true)
	dayList := slices.Sorted(maps.Keys(days))
	check(t, db, "web_days_of_data", q("SELECT days, CAST(first_day AS varchar), CAST(last_day AS varchar) FROM gold.web_days_of_data"),
		[]string{fmt.Sprintf("%d|%s|%s", len(days), dayList[0], dayList[len(dayList)-1])}, true)
	var wantBytes []string
	for cls, b := range byClass {
		wantBytes = append(wantBytes, fmt.Sprintf("%s|%d|%d|%d|%d|%d|%s", cls, b.n, b.logged, b.sum, b.max, b.min, f2(float64(b.sum)/float64(b.logged))))
	}
	check(t, db, "web_bytes_by_status_class", q("SELECT status_class, requests, bytes_logged, bytes_total, bytes_max, bytes_min, bytes_avg FROM gold.web_bytes_by_status_class"), wantBytes, false)
	check(t, db, "access_hourly", q("SELECT format_datetime(hour, 'yyyy-MM-dd HH'), status_class, requests FROM gold.access_hourly"), countLines(hourly), false)
	var wantWd []string
	for wd, n := range weekday4xx {
		iso := int(wd)
		if iso == 0 {
			iso = 7
		}
		wantWd = append(wantWd, fmt.Sprintf("%d|%s|%d", iso, wd, n))
	}
	check(t, db, "web_4xx_by_weekday", q("SELECT iso_weekday, weekday, errors_4xx FROM gold.web_4xx_by_weekday"), wantWd, false)

	evs := m.sortedEvents()
	// §5.2 request tracing: rows per action and their time order.
	trace := map[string][]string{}
	for _, e := range evs {
		trace[e.ActionID] = append(trace[e.ActionID], e.TS.UTC().Format("15:04:05.000")+" event "+e.Service+" "+e.Type)
	}
	for _, l := range m.logs {
		if l.ActionID != "" {
			trace[l.ActionID] = append(trace[l.ActionID], l.TS.UTC().Format("15:04:05.000")+" log "+l.Service+" "+l.Level)
		}
	}
	var actions []string
	for id, steps := range trace {
		if len(steps) >= 4 {
			actions = append(actions, id)
		}
	}
	sort.Strings(actions)
	for _, id := range actions[:min(3, len(actions))] {
		want := trace[id]
		sort.Strings(want) // time first; ties by source, service, kind
		check(t, db, "request_trace "+id, q(fmt.Sprintf(
			"SELECT format_datetime(event_ts, 'HH:mm:ss.SSS') || ' ' || source || ' ' || service || ' ' || kind FROM gold.request_trace WHERE action_id = '%s' ORDER BY event_ts, source, service, detail", id)), want, false)
	}

	// §5.3 events and log lines by type/level, service and interval.
	ev15, lg15 := map[string]int64{}, map[string]int64{}
	for _, e := range evs {
		ev15[fmt.Sprintf("%s|%s|%s|%s", bucket15(e.TS).Format(tsFmt), e.Service, e.Type, e.Status)]++
	}
	for _, l := range m.logs {
		lg15[fmt.Sprintf("%s|%s|%s", bucket15(l.TS).Format(tsFmt), l.Service, l.Level)]++
	}
	check(t, db, "event_counts_15m", q("SELECT bucket, service, type, status, events FROM gold.event_counts_15m"), countLines(ev15), false)
	check(t, db, "log_counts_15m", q("SELECT bucket, service, level, lines FROM gold.log_counts_15m"), countLines(lg15), false)
	// Top message patterns: lines per hour and pattern, numbers and hex
	// words with a digit masked (the rollup's SQL, in Go).
	hexWord, number := regexp.MustCompile(`\b[0-9a-fA-F]*[0-9][0-9a-fA-F]*\b`), regexp.MustCompile(`[0-9]+`)
	patterns := map[string]int64{}
	for _, l := range m.logs {
		pattern := number.ReplaceAllString(hexWord.ReplaceAllString(l.Message, "#"), "#")
		patterns[fmt.Sprintf("%s|%s|%s|%s|%s|%s|%d|%s", l.TS.UTC().Format("2006-01-02 15"), l.Level, l.Service, l.Node, l.Module, l.File, l.Line, pattern)]++
	}
	if len(patterns) >= len(m.logs)/2 {
		t.Errorf("log_patterns: %d patterns for %d log lines; masking should fold a statement's lines into one", len(patterns), len(m.logs))
	}
	check(t, db, "log_patterns", q("SELECT format_datetime(hour, 'yyyy-MM-dd HH'), level, service, coalesce(node, ''), coalesce(module, ''), coalesce(file, ''), coalesce(line, 0), pattern, lines FROM gold.log_patterns"),
		countLines(patterns), false)

	// §5.4 and §5.5 per grain.
	type usersAt struct{ active, viewing, buying map[string]bool }
	type txAt struct{ tx, failed, views int64 }
	users := map[string]*usersAt{}
	tx := map[string]*txAt{}
	for _, e := range evs {
		for _, grain := range []string{"15m", "1h", "3h", "1d"} {
			k := grain + "|" + grainBucket(grain, e.TS).Format(tsFmt)
			if e.UserID != "" {
				u := users[k]
				if u == nil {
					u = &usersAt{map[string]bool{}, map[string]bool{}, map[string]bool{}}
					users[k] = u
				}
				u.active[e.UserID] = true
				if e.Type == events.TypePageView {
					u.viewing[e.UserID] = true
				}
				if e.Type == events.TypeBuy && e.Status == events.StatusOK {
					u.buying[e.UserID] = true
				}
			}
			x := tx[k]
			if x == nil {
				x = &txAt{}
				tx[k] = x
			}
			switch {
			case e.Type == events.TypeBuy && e.Status == events.StatusOK:
				x.tx++
			case e.Type == events.TypeBuy:
				x.failed++
			case e.Type == events.TypePageView:
				x.views++
			}
		}
	}
	var wantUsers, wantTx []string
	for k, u := range users {
		wantUsers = append(wantUsers, fmt.Sprintf("%s|%d|%d|%d", k, len(u.active), len(u.viewing), len(u.buying)))
	}
	for k, x := range tx {
		wantTx = append(wantTx, fmt.Sprintf("%s|%d|%d|%d", k, x.tx, x.failed, x.views))
	}
	check(t, db, "simultaneous_users", q("SELECT grain, bucket, active_users, viewing_users, buying_users FROM gold.simultaneous_users"), wantUsers, false)
	check(t, db, "transactions_page_views", q("SELECT grain, bucket, coalesce(transactions, 0), coalesce(failed_buys, 0), coalesce(page_views, 0) FROM gold.transactions_page_views"), wantTx, false)

	// §5.6 retries with their outcome.
	type pay struct {
		attempts int
		ok       bool
	}
	pays := map[string]*pay{}
	for _, e := range evs {
		if e.Type != events.TypePaymentAttempt {
			continue
		}
		p := pays[e.ActionID]
		if p == nil {
			p = &pay{}
			pays[e.ActionID] = p
		}
		p.attempts++
		p.ok = p.ok || e.Status == events.StatusOK
	}
	outcomes := map[string]int64{}
	for _, p := range pays {
		o := "failed"
		if p.ok {
			o = "success"
		}
		outcomes[fmt.Sprintf("%d|%s", p.attempts, o)]++
	}
	check(t, db, "retry_outcomes", q("SELECT attempts, outcome, payments FROM gold.retry_outcomes"), countLines(outcomes), false)
	// payment_outcomes (from the payment_attempts_15m rollup) has every
	// payment of payment_retries (from silver), with the same figures.
	cols := "action_id, first_attempt_at, last_attempt_at, attempts, outcome"
	check(t, db, "payment_outcomes against payment_retries", q(fmt.Sprintf(`SELECT
		(SELECT count(*) FROM (SELECT %[1]s FROM gold.payment_outcomes EXCEPT ALL SELECT %[1]s FROM gold.payment_retries)),
		(SELECT count(*) FROM (SELECT %[1]s FROM gold.payment_retries EXCEPT ALL SELECT %[1]s FROM gold.payment_outcomes)),
		(SELECT count(*) FROM gold.payment_outcomes) = %[2]d`, cols, len(pays))), []string{"0|0|true"}, false)

	// §5.7 durations: exact count/min/max/avg, percentiles by rank error.
	durs := map[string][]float64{}
	for _, e := range evs {
		k := e.Service + "|" + e.Type
		durs[k] = append(durs[k], e.DurationMs)
	}
	var wantDur []string
	for k, ds := range durs {
		slices.Sort(ds)
		sum := 0.0
		for _, d := range ds {
			sum += d
		}
		wantDur = append(wantDur, fmt.Sprintf("%s|%d|%s|%s|%s", k, len(ds), f2(ds[0]), f2(ds[len(ds)-1]), f2(sum/float64(len(ds)))))
	}
	check(t, db, "operation_duration", q("SELECT service, operation, operations, min_ms, max_ms, avg_ms FROM gold.operation_duration"), wantDur, false)
	for _, line := range queryLines(t, db, q("SELECT service, operation, p50_ms, p95_ms, p99_ms FROM gold.operation_duration")) {
		f := strings.Split(line, "|")
		ds := durs[f[0]+"|"+f[1]]
		for i, qt := range []float64{0.5, 0.95, 0.99} {
			var est float64
			fmt.Sscanf(f[2+i], "%g", &est)
			// The t-digest estimate must sit within 2% of the values (by
			// rank) of the exact quantile, or 1 value for tiny groups.
			lo, _ := slices.BinarySearch(ds, est-0.005)
			hi, _ := slices.BinarySearch(ds, est+0.005)
			target := qt * float64(len(ds))
			tol := math.Max(0.02*float64(len(ds)), 1.5)
			if float64(hi) < target-tol || float64(lo) > target+tol {
				t.Errorf("operation_duration %s/%s p%.0f = %v: rank [%d, %d], want about %.0f of %d", f[0], f[1], qt*100, est, lo, hi, target, len(ds))
			}
		}
	}

	// §5.8 host usage next to active users.
	type hostAt struct {
		n   int64
		cpu float64
		max int64
	}
	hosts := map[string]*hostAt{}
	for _, x := range m.metrics {
		k := bucket15(x.TS).Format(tsFmt) + "|" + x.Host
		h := hosts[k]
		if h == nil {
			h = &hostAt{}
			hosts[k] = h
		}
		h.n++
		h.cpu += x.CPUPct
		h.max = max(h.max, x.MemBytes)
	}
	var wantHosts, wantUsage []string
	for k, h := range hosts {
		wantUsage = append(wantUsage, fmt.Sprintf("%s|%s|%d", k, f2(h.cpu/float64(h.n)), h.max))
		bucket, _, _ := strings.Cut(k, "|")
		active := 0
		if u := users["15m|"+bucket]; u != nil {
			active = len(u.active)
		}
		wantHosts = append(wantHosts, fmt.Sprintf("%s|%s|%d|%d", k, f2(h.cpu/float64(h.n)), h.max, active))
	}
	check(t, db, "host_usage_vs_users", q("SELECT bucket, host, cpu_pct_avg, mem_bytes_max, active_users FROM gold.host_usage_vs_users"), wantHosts, false)
	check(t, db, "host_usage", q("SELECT bucket, host, cpu_pct_avg, mem_bytes_max FROM gold.host_usage"), wantUsage, false)

	// §5.9 anomalies.
	// The UserRepeatingOperation rule: distinct action ids other than page
	// views, per user and type, in 1-minute windows sliding by 10 s, > 10.
	burstIDs := map[string]map[string]bool{}
	for _, e := range evs {
		if e.Type == events.TypePageView {
			continue
		}
		pane := e.TS.UTC().Truncate(10 * time.Second)
		for k := range 6 {
			w := fmt.Sprintf("%s|%s|%s", e.UserID, e.Type, pane.Add(-time.Duration(k)*10*time.Second).Format(tsFmt))
			if burstIDs[w] == nil {
				burstIDs[w] = map[string]bool{}
			}
			burstIDs[w][e.ActionID] = true
		}
	}
	bursts := map[string]int64{}
	for k, ids := range burstIDs {
		if len(ids) > 10 {
			bursts[k] = int64(len(ids))
		}
	}
	check(t, db, "anomaly_operation_bursts", q("SELECT user_id, operation, window_start, operations FROM gold.anomaly_operation_bursts"), countLines(bursts), false)
	var wantBTR []string
	for _, r := range evs {
		if r.Type != events.TypeRefund || r.Service != "orders" {
			continue
		}
		for _, b := range evs {
			if b.Type == events.TypeBuy && b.Status == events.StatusOK && b.UserID == r.UserID && b.Item == r.Item &&
				b.TS.Before(r.TS) && !b.TS.Before(r.TS.Add(-10*time.Minute)) && (r.OrderID == "" || r.OrderID == b.ActionID) {
				wantBTR = append(wantBTR, fmt.Sprintf("%s|%s|%s|%s", r.UserID, r.Item, b.ActionID, r.ActionID))
			}
		}
	}
	check(t, db, "anomaly_buy_then_refund", q("SELECT user_id, item, buy_action_id, refund_action_id FROM gold.anomaly_buy_then_refund"), wantBTR, false)

	// §5.10 hot ∪ archive (nothing archived yet: the hot rows) and the
	// pipeline's rejects.
	check(t, db, "events_all", q("SELECT tier, count(*) FROM gold.events_all GROUP BY tier"), []string{fmt.Sprintf("hot|%d", len(evs))}, false)
	check(t, db, "access_logs_all", q("SELECT tier, count(*) FROM gold.access_logs_all GROUP BY tier"), []string{fmt.Sprintf("hot|%d", len(m.access))}, false)
	check(t, db, "logs_all", q("SELECT tier, count(*) FROM gold.logs_all GROUP BY tier"), []string{fmt.Sprintf("hot|%d", len(m.logs))}, false)
	check(t, db, "metrics_all", q("SELECT tier, count(*) FROM gold.metrics_all GROUP BY tier"), []string{fmt.Sprintf("hot|%d", len(m.metrics))}, false)
	// Storage per tier: the same rows from partition metadata, in files
	// of some bytes; the archive tier empty.
	check(t, db, "pipeline_storage", q(`SELECT table_name, rows, files > 0 AND bytes > 0 FROM gold.pipeline_storage
		WHERE table_name IN ('silver.events', 'silver.access_logs', 'silver.logs', 'silver.metrics', 'archive.events')`), []string{
		fmt.Sprintf("silver.events|%d|true", len(evs)), fmt.Sprintf("silver.access_logs|%d|true", len(m.access)),
		fmt.Sprintf("silver.logs|%d|true", len(m.logs)), fmt.Sprintf("silver.metrics|%d|true", len(m.metrics)), "archive.events|0|false",
	}, false)
	var wantRejects []string
	for topic, n := range m.rejects {
		wantRejects = append(wantRejects, fmt.Sprintf("%s|%d", topic, n))
	}
	check(t, db, "pipeline_rejects", q(`SELECT topic, sum(records) FROM gold.pipeline_rejects
		WHERE topic IN ('web.access', 'app.events', 'app.logs', 'infra.metrics') GROUP BY topic`), wantRejects, false)

	// Every other view answers without error.
	for _, v := range []string{"alerts", "alerts_raised", "anomalies", "data_span", "events", "logs", "access_logs",
		"operation_duration_hourly", "payment_retries", "pipeline_dead_letters", "pipeline_freshness",
		"pipeline_ingest_lag", "revenue_by_provider", "web_traffic_daily"} {
		queryLines(t, db, q("SELECT count(*) FROM gold."+v))
	}
}

func topN(counts map[string]int64, n int) []string {
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b)) })
	var out []string
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, fmt.Sprintf("%s|%d", k, counts[k]))
	}
	return out
}

func countLines(m map[string]int64) []string {
	var out []string
	for k, n := range m {
		out = append(out, fmt.Sprintf("%s|%d", k, n))
	}
	return out
}

// goldenAnswers records the answers of the headline views for the fixed
// dataset in testdata/answers.golden (-update rewrites it), so a change in
// any stage that moves an answer shows up in review.
func goldenAnswers(t *testing.T, db *sql.DB, g string) {
	var b strings.Builder
	for _, query := range []string{
		"SELECT * FROM gold.web_top_client_ips ORDER BY requests DESC, client_ip",
		"SELECT * FROM gold.web_top_endpoints ORDER BY requests DESC, endpoint",
		"SELECT * FROM gold.web_distinct_client_ips",
		"SELECT * FROM gold.web_days_of_data",
		"SELECT * FROM gold.web_bytes_by_status_class ORDER BY status_class",
		"SELECT * FROM gold.web_4xx_by_weekday ORDER BY rank, iso_weekday",
		"SELECT * FROM gold.retry_outcomes ORDER BY attempts, outcome",
		"SELECT grain, bucket, transactions, failed_buys, page_views, revenue FROM gold.transactions_page_views WHERE grain IN ('3h', '1d') ORDER BY grain, bucket",
		"SELECT grain, bucket, active_users, viewing_users, buying_users FROM gold.simultaneous_users WHERE grain IN ('3h', '1d') ORDER BY grain, bucket",
		"SELECT user_id, operation, count(*) FROM gold.anomaly_operation_bursts GROUP BY 1, 2 ORDER BY 1, 2",
		"SELECT count(*) FROM gold.anomaly_buy_then_refund",
	} {
		fmt.Fprintf(&b, "-- %s\n%s\n\n", query, strings.Join(queryLines(t, db, strings.ReplaceAll(query, "gold.", g+".")), "\n"))
	}
	path := filepath.Join("testdata", "answers.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if string(want) != b.String() {
		t.Errorf("%s differs (run with -update if intended):\n%s", path, diff(strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")))
	}
}

func mustExec(t *testing.T, db *sql.DB, stmt string) {
	t.Helper()
	if err := trino.Exec(context.Background(), db, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// openTrino opens Trino for a test and closes it in a cleanup: registered
// before the test's own cleanups, it runs after them (cleanups run last
// registered first), so dropSchema still has a connection. A deferred
// Close ran before every cleanup and left the test schemas behind.
// goldEnv is a test's lakehouse (silvertest: namespaces of its own) with a
// gold schema of its own on Trino, the gold definitions, a Runner that
// applies them there, and the silver job over the test's namespaces.
type goldEnv struct {
	*silvertest.Env
	cfg        config.Config
	db         *sql.DB
	goldSchema string
	target     Target
	defs       []*Definition
	runner     *Runner
	job        *silver.Job
}

func newGoldEnv(tb testing.TB) *goldEnv {
	tb.Helper()
	env := silvertest.New(tb)
	cfg := stacktest.Config(tb)
	db := openTrino(tb, cfg)
	// Trino may write only under warehouse/gold* (its S3 policy): the
	// test's gold schema is gold_<prefix>.
	goldSchema := "gold_" + strings.TrimSuffix(env.NS.Silver, "_silver")
	target := Target{Catalog: cfg.Trino.Catalog, Schemas: map[string]string{
		"bronze": env.NS.Bronze, "silver": env.NS.Silver, "archive": env.NS.Archive, "gold": goldSchema,
	}}
	tb.Cleanup(func() { dropSchema(tb, db, cfg.Trino.Catalog, goldSchema) })
	if err := EnsureSources(context.Background(), env.Lake, target); err != nil {
		tb.Fatal(err)
	}
	defs, err := Load(goldsql.FS)
	if err != nil {
		tb.Fatal(err)
	}
	return &goldEnv{Env: env, cfg: cfg, db: db, goldSchema: goldSchema, target: target, defs: defs,
		runner: &Runner{DB: db, Target: target}, job: silver.New(env.Lake, silver.Config{Namespaces: env.NS})}
}

func openTrino(tb testing.TB, cfg config.Config) *sql.DB {
	tb.Helper()
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Logf("close trino: %v", err)
		}
	})
	return db
}

// dropSchema drops every view and table of a schema, then the schema;
// what it cannot drop is logged, not failed (a cleanup).
func dropSchema(tb testing.TB, db *sql.DB, catalog, schema string) {
	ctx := context.Background()
	exec := func(stmt string) error { return trino.Exec(ctx, db, stmt) }
	var drops []string
	err := trino.Each(ctx, db, fmt.Sprintf("SELECT table_name, table_type FROM %s.information_schema.tables WHERE table_schema = '%s'", catalog, schema), func(row trino.Scanner) error {
		var name, typ string
		if row.Scan(&name, &typ) == nil {
			kind := "TABLE"
			if typ == "VIEW" {
				kind = "VIEW"
			}
			drops = append(drops, fmt.Sprintf("DROP %s IF EXISTS %s.%s.%s", kind, catalog, schema, name))
		}
		return nil
	})
	if err != nil {
		tb.Logf("drop schema %s: list objects: %v", schema, err)
		return
	}
	for _, d := range drops {
		if err := exec(d); err != nil {
			tb.Logf("%s: %v", d, err)
		}
	}
	if err := exec(fmt.Sprintf("DROP SCHEMA IF EXISTS %s.%s", catalog, schema)); err != nil {
		tb.Logf("drop schema %s: %v", schema, err)
	}
}
