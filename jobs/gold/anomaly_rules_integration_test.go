//go:build integration

package gold

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"weir/events"
	"weir/jobs/alerts"
	"weir/jobs/alerts/rules"
	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// TestAnomalyViewsListAlerts runs the alert rules of rules/alerts.yaml over
// a known event set (the backtest: the alert job's engine, in process) and
// checks through Trino that the anomaly views list every alert: each
// UserRepeatingOperation alert's firing window (user, operation, window
// start) is a row of gold.anomaly_operation_bursts with more repeats than
// the rule's threshold, and each BuyThenRefund alert's pair (user, the
// buy's time) a row of gold.anomaly_buy_then_refund. The events cross
// midnight and arrive in two loads (the day before, then the day after),
// with a hand-written burst across midnight, so the incremental refresh
// must recompute windows that start before midnight from rows after it.
func TestAnomalyViewsListAlerts(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	f, err := rules.Load(filepath.Join("..", "..", alerts.DefaultRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	midnight := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	recs, _ := silvertest.Generate(t, midnight.Add(-12*time.Minute), midnight.Add(8*time.Minute), 6, generate.FaultRates{}, func(c *generate.Config) {
		c.Seed, c.AnomalyEvery = 17, 2*time.Minute
		c.Anomalies = []string{generate.KindBotRepeat, generate.KindBuyThenRefund}
	})
	// A bot reserving 12 times in 10 s across midnight: only windows
	// that start before midnight and end after it hold all 12.
	for i := range 12 {
		e := events.AppEvent{EventID: fmt.Sprintf("midnight-%02d", i), ActionID: fmt.Sprintf("midnight-a%02d", i),
			TS: midnight.Add(time.Duration(i-6) * 800 * time.Millisecond), Service: "orders", Host: "orders-1",
			UserID: "u-midnight", SessionID: "s-midnight", Type: events.TypeReserve, Item: "sku-1", Status: events.StatusOK}
		recs = append(recs, silvertest.Record{Topic: events.TopicAppEvents, Key: []byte(e.UserID), Value: e.AppendJSON(nil)})
	}

	// The alerts: the engine over the records in event-time order.
	var srcs []alerts.Source
	var before, after []silvertest.Record
	for _, r := range recs {
		srcs = append(srcs, alerts.Source{Topic: r.Topic, Value: r.Value})
		_, ts, err := alerts.Decode(r.Topic, r.Value)
		if err == nil && !ts.Before(midnight) {
			after = append(after, r)
		} else {
			before = append(before, r)
		}
	}
	sort.SliceStable(srcs, func(i, j int) bool { return eventTime(srcs[i]).Before(eventTime(srcs[j])) })
	type key struct{ user, op, start string }
	bursts, pairs := map[key]bool{}, map[key]bool{}
	seen := map[string]bool{}
	for _, n := range alerts.Backtest(f, srcs, alerts.BacktestClock(srcs)) {
		if n.Status != "firing" || seen[n.ID] {
			continue
		}
		seen[n.ID] = true // an episode's first notification names the window that fired it
		switch n.Rule {
		case "UserRepeatingOperation":
			bursts[key{n.Labels["user_id"], n.Labels["type"], n.WindowStart.UTC().Format(tsFmt)}] = true
		case "BuyThenRefund":
			pairs[key{n.Labels["user_id"], "", n.StartsAt.UTC().Format(tsFmt + ".000")}] = true
		}
	}
	acrossMidnight := false
	for k := range bursts {
		acrossMidnight = acrossMidnight || k.user == "u-midnight" && k.start < midnight.Format(tsFmt)
	}
	if !acrossMidnight {
		t.Fatalf("the engine did not alert on the burst across midnight in a window starting before it: %v", bursts)
	}
	if len(bursts) < 3 || len(pairs) == 0 {
		t.Fatalf("too few alerts to test with: %d bursts, %d buy-then-refund", len(bursts), len(pairs))
	}

	// Silver and gold: the day before midnight, a full build; then the
	// day after, an incremental refresh.
	var defs []*Definition
	for _, d := range g.defs {
		if slices.Contains([]string{"operation_bursts", "anomaly_operation_bursts", "buy_then_refund", "anomaly_buy_then_refund"}, d.Name) {
			defs = append(defs, d)
		}
	}
	loadedAt := midnight.Add(10 * time.Minute)
	g.LoadBronze(t, before, loadedAt)
	if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	if _, err := g.runner.Apply(ctx, defs); err != nil {
		t.Fatalf("apply: %v", err)
	}
	g.LoadBronze(t, after, loadedAt)
	if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	res, err := g.runner.Refresh(ctx, defs)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	for _, r := range res {
		if r.Change != Refreshed || r.Days != 2 {
			t.Errorf("refresh %s: %s %d days, want refreshed 2 days (the new day and the one before)", r.Name, r.Change, r.Days)
		}
	}

	q := func(s string) string { return strings.ReplaceAll(s, "gold.", g.goldSchema+".") }
	inView := map[key]bool{}
	for _, line := range queryLines(t, g.db, q("SELECT user_id, operation, window_start FROM gold.anomaly_operation_bursts WHERE operations > 10")) {
		p := strings.Split(line, "|")
		inView[key{p[0], p[1], p[2]}] = true
	}
	windows := len(inView)
	for k := range bursts {
		if !inView[k] {
			t.Errorf("UserRepeatingOperation alert for %s %s in the window from %s: not in anomaly_operation_bursts", k.user, k.op, k.start)
		}
	}
	inView = map[key]bool{}
	for _, line := range queryLines(t, g.db, q("SELECT user_id, format_datetime(bought_at AT TIME ZONE 'UTC', 'yyyy-MM-dd HH:mm:ss.SSS') FROM gold.anomaly_buy_then_refund")) {
		p := strings.Split(line, "|")
		inView[key{p[0], "", p[1]}] = true
	}
	for k := range pairs {
		if !inView[k] {
			t.Errorf("BuyThenRefund alert for %s, bought at %s: not in anomaly_buy_then_refund", k.user, k.start)
		}
	}
	t.Logf("%d burst alerts and %d buy-then-refund alerts, each in its view (%d burst windows in the view)", len(bursts), len(pairs), windows)
}

func eventTime(s alerts.Source) time.Time {
	_, ts, _ := alerts.Decode(s.Topic, s.Value)
	return ts
}
