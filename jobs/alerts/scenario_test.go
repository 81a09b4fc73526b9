package alerts

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"weir/events"
)

// A scenario is synthetic traffic of the sales platform with injected
// anomalies and their ground truth, built in memory so the tests and the
// benchmark need no generator run. Background traffic stays clear of every
// shipped rule's threshold; each anomaly crosses exactly one.
type scenario struct {
	start time.Time
	end   time.Time
	msgs  []scenarioMsg
	truth []truth
}

type scenarioMsg struct {
	topic string
	key   string
	value []byte
	ts    time.Time
}

// truth is one injected anomaly: the shape of the generator's ground-truth
// lines (jobs/generate Anomaly).
type truth = Incident

var (
	scenarioServices  = []string{"web", "search", "catalog"}
	scenarioLogSvcs   = []string{"orders", "payments", "search", "web"}
	scenarioProviders = []string{"p0", "p1", "p2", "p3"}
	scenarioPaths     = []string{"/api/orders/123", "/api/search?q=x", "/api/catalog/9", "/static/app.css"}
)

func scenarioItem(i int) (item, category string) {
	return fmt.Sprintf("i%02d", i%50), fmt.Sprintf("c%d", (i%50)/10)
}

// buildScenario makes span of traffic from start (minute-aligned) with pv
// page views per second, plus the anomalies of the issue:
//
//	+10m..+16m provider_outage p2     +20m..+23m error_spike payments
//	+25m..+31m latency_regression search  +15m..+17m bot_repeat bot-1/reserve
//	buy_then_refund ×3                +30m..end category_threshold c1
func buildScenario(seed uint64, start time.Time, span time.Duration, pv int) *scenario {
	r := rand.New(rand.NewPCG(seed, 7))
	s := &scenario{start: start, end: start.Add(span)}
	id := 0
	ev := func(ts time.Time, e events.AppEvent) {
		id++
		e.EventID = fmt.Sprintf("e%d", id)
		if e.ActionID == "" {
			e.ActionID = fmt.Sprintf("a%d", id)
		}
		e.TS = ts
		if e.Host == "" {
			e.Host = "h1"
		}
		if e.Status == "" {
			e.Status = events.StatusOK
		}
		s.msgs = append(s.msgs, scenarioMsg{events.TopicAppEvents, e.UserID, e.AppendJSON(nil), ts})
	}
	logLine := func(ts time.Time, svc, level string) {
		l := events.AppLog{TS: ts, Level: level, Service: svc, Host: "h1", Message: "m"}
		s.msgs = append(s.msgs, scenarioMsg{events.TopicAppLogs, svc, l.AppendJSON(nil), ts})
	}
	access := func(ts time.Time, path string, status int) {
		a := events.AccessLog{ClientIP: "10.0.0.1", Time: ts, Method: "GET", Path: path, Protocol: "HTTP/1.1", Status: status, Bytes: 100, RequestTimeMs: 12}
		s.msgs = append(s.msgs, scenarioMsg{events.TopicWebAccess, "", a.AppendLine(nil), ts})
	}
	orders := 0
	buy := func(ts time.Time, user string, item int) (order string) {
		it, _ := scenarioItem(item)
		orders++
		order = fmt.Sprintf("o%d", orders)
		ev(ts, events.AppEvent{Service: "orders", UserID: user, Type: events.TypeBuy, Item: it, Amount: 10, Currency: "EUR", DurationMs: 80, OrderID: order})
		return order
	}
	in := func(ts time.Time, from, to time.Duration) bool {
		return !ts.Before(start.Add(from)) && ts.Before(start.Add(to))
	}
	at := func(d time.Duration) time.Time { return start.Add(d) }

	// An hour of history first, so baselines are warm when the anomalies
	// begin: the same buys, payments, errors and 5xx share, fewer page
	// views and no info lines (no rule counts them).
	for sec := -int(scenarioWarmUp / time.Second); sec < 0; sec++ {
		base := start.Add(time.Duration(sec) * time.Second)
		jit := func() time.Time { return base.Add(time.Duration(r.IntN(1000)) * time.Millisecond) }
		for i := 0; i < max(pv/4, 1); i++ {
			ev(jit(), events.AppEvent{Service: scenarioServices[r.IntN(len(scenarioServices))], UserID: fmt.Sprintf("u%d", r.IntN(500)), Type: events.TypePageView, Page: "/p", DurationMs: 20 + r.Float64()*280})
		}
		for i := 0; i < 2; i++ {
			buy(jit(), fmt.Sprintf("u%d", r.IntN(500)), r.IntN(50))
		}
		for i := 0; i < 2; i++ {
			st := events.StatusOK
			if r.IntN(100) < 3 {
				st = events.StatusFailed
			}
			ev(jit(), events.AppEvent{Service: "payments", UserID: fmt.Sprintf("u%d", r.IntN(500)), Type: events.TypePaymentAttempt,
				Provider: scenarioProviders[r.IntN(len(scenarioProviders))], Attempt: 1, Status: st, DurationMs: 150})
		}
		if sec%7 == 0 {
			it, _ := scenarioItem(r.IntN(50))
			ev(jit(), events.AppEvent{Service: "orders", UserID: fmt.Sprintf("u%d", r.IntN(500)), Type: events.TypeReserve, Item: it, DurationMs: 40})
		}
		if sec%20 == 0 {
			it, _ := scenarioItem(r.IntN(50))
			ev(jit(), events.AppEvent{Service: "orders", UserID: fmt.Sprintf("r%d", r.IntN(100)), Type: events.TypeRefund, Item: it, Amount: 10, Currency: "EUR", DurationMs: 60, OrderID: fmt.Sprintf("old-%d", sec)})
		}
		for _, svc := range scenarioLogSvcs {
			if r.IntN(100) < 10 {
				logLine(jit(), svc, events.LevelError)
			}
		}
		st := 200
		if r.IntN(100) < 1 {
			st = 503
		}
		access(jit(), scenarioPaths[r.IntN(len(scenarioPaths))], st)
	}
	for sec := 0; sec < int(span/time.Second); sec++ {
		base := start.Add(time.Duration(sec) * time.Second)
		jit := func() time.Time { return base.Add(time.Duration(r.IntN(1000)) * time.Millisecond) }
		for i := 0; i < pv; i++ {
			ts := jit()
			svc := scenarioServices[r.IntN(len(scenarioServices))]
			d := 20 + r.Float64()*280
			if svc == "search" && in(ts, 25*time.Minute, 31*time.Minute) {
				d = 3000 + r.Float64()*2000
			}
			ev(ts, events.AppEvent{Service: svc, UserID: fmt.Sprintf("u%d", r.IntN(500)), Type: events.TypePageView, Page: "/p", DurationMs: d})
		}
		for i := 0; i < 2; i++ { // buys, spread over 5 categories
			buy(jit(), fmt.Sprintf("u%d", r.IntN(500)), r.IntN(50))
		}
		for i := 0; i < 2; i++ { // payment attempts, 3% failing; all of p2's during its outage
			st := events.StatusOK
			prov := scenarioProviders[r.IntN(len(scenarioProviders))]
			if r.IntN(100) < 3 || prov == "p2" && in(base, 10*time.Minute, 16*time.Minute) {
				st = events.StatusFailed
			}
			ev(jit(), events.AppEvent{Service: "payments", UserID: fmt.Sprintf("u%d", r.IntN(500)), Type: events.TypePaymentAttempt,
				Provider: prov, Attempt: 1, Status: st, DurationMs: 150})
		}
		if sec%7 == 0 { // reservations of ordinary users
			it, _ := scenarioItem(r.IntN(50))
			ev(jit(), events.AppEvent{Service: "orders", UserID: fmt.Sprintf("u%d", r.IntN(500)), Type: events.TypeReserve, Item: it, DurationMs: 40})
		}
		if sec%20 == 0 { // refunds of old orders, by users who buy nothing now
			it, _ := scenarioItem(r.IntN(50))
			ev(jit(), events.AppEvent{Service: "orders", UserID: fmt.Sprintf("r%d", r.IntN(100)), Type: events.TypeRefund, Item: it, Amount: 10, Currency: "EUR", DurationMs: 60, OrderID: fmt.Sprintf("old-%d", sec)})
		}
		for _, svc := range scenarioLogSvcs {
			for i := 0; i < 5; i++ {
				lvl := events.LevelInfo
				if r.IntN(100) < 2 {
					lvl = events.LevelError
				}
				logLine(jit(), svc, lvl)
			}
		}
		for i := 0; i < 5; i++ {
			st := 200
			if r.IntN(100) < 1 {
				st = 503
			}
			access(jit(), scenarioPaths[r.IntN(len(scenarioPaths))], st)
		}

		// Anomalies.
		if in(base, 10*time.Minute, 16*time.Minute) {
			for i := 0; i < 2; i++ {
				ev(jit(), events.AppEvent{Service: "payments", UserID: fmt.Sprintf("u%d", 400+r.IntN(100)), Type: events.TypePaymentAttempt,
					Provider: "p2", Attempt: 1 + r.IntN(3), Status: events.StatusFailed, DurationMs: 900})
			}
		}
		if in(base, 20*time.Minute, 23*time.Minute) {
			for i := 0; i < 2; i++ {
				logLine(jit(), "payments", events.LevelError)
			}
		}
		if in(base, 15*time.Minute, 17*time.Minute) {
			it, _ := scenarioItem(3)
			ev(jit(), events.AppEvent{Service: "orders", UserID: "bot-1", Type: events.TypeReserve, Item: it, DurationMs: 30})
		}
		if in(base, 30*time.Minute, span) {
			for i := 0; i < 3; i++ {
				buy(jit(), fmt.Sprintf("u%d", r.IntN(500)), 10+r.IntN(10)) // category c1
			}
		}
	}
	for k, off := range []time.Duration{5 * time.Minute, 12 * time.Minute, 30 * time.Minute} {
		user := fmt.Sprintf("refunder-%d", k)
		order := buy(at(off), user, 7)
		it, _ := scenarioItem(7)
		ev(at(off+2*time.Minute), events.AppEvent{Service: "orders", UserID: user, Type: events.TypeRefund, Item: it, Amount: 10, Currency: "EUR", DurationMs: 50, OrderID: order})
		s.truth = append(s.truth, truth{Kind: "buy_then_refund", Labels: map[string]string{"user_id": user}, Start: at(off), End: at(off + 2*time.Minute)})
	}
	s.truth = append(s.truth,
		truth{Kind: "provider_outage", Labels: map[string]string{"provider": "p2"}, Start: at(10 * time.Minute), End: at(16 * time.Minute)},
		truth{Kind: "error_spike", Labels: map[string]string{"service": "payments"}, Start: at(20 * time.Minute), End: at(23 * time.Minute)},
		truth{Kind: "latency_regression", Labels: map[string]string{"service": "search"}, Start: at(25 * time.Minute), End: at(31 * time.Minute)},
		truth{Kind: "bot_repeat", Labels: map[string]string{"user_id": "bot-1", "operation": "reserve"}, Start: at(15 * time.Minute), End: at(17 * time.Minute)},
		truth{Kind: "category_threshold", Labels: map[string]string{"category": "c1"}, Start: at(30 * time.Minute), End: s.end},
	)
	// Producers emit in time order (per partition the job sees time order,
	// give or take the second of jitter).
	sort.SliceStable(s.msgs, func(i, j int) bool { return s.msgs[i].ts.Before(s.msgs[j].ts) })
	return s
}

// scenarioWarmUp is the history before a scenario's start (see
// buildScenario).
const scenarioWarmUp = 90 * time.Minute

// dimItems are the catalogue records (item → category).
func dimItems() []scenarioMsg {
	var out []scenarioMsg
	for i := 0; i < 50; i++ {
		it, cat := scenarioItem(i)
		d := events.DimItem{Item: it, Name: it, Category: cat, Price: 10}
		out = append(out, scenarioMsg{events.TopicDimItems, it, d.AppendJSON(nil), time.Time{}})
	}
	return out
}
