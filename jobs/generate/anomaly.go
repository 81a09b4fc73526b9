package generate

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"weir/events"
)

// Anomaly kinds (ground truth "kind").
const (
	KindProviderOutage    = "provider_outage"
	KindErrorSpike        = "error_spike"
	KindLatencyRegression = "latency_regression"
	KindBuyThenRefund     = "buy_then_refund"
	KindBotRepeat         = "bot_repeat"
	KindCategoryThreshold = "category_threshold"
)

// AnomalyKinds lists every kind in a fixed order.
var AnomalyKinds = []string{KindProviderOutage, KindErrorSpike, KindLatencyRegression, KindBuyThenRefund, KindBotRepeat, KindCategoryThreshold}

func knownKind(k string) bool { return slices.Contains(AnomalyKinds, k) }

// Incident shapes (ground truth "shape"): how an anomaly's intensity
// evolves over its span.
const (
	ShapeStep    = "step"    // full intensity from start to end
	ShapeRamp    = "ramp"    // rises from a tenth to full over the first two thirds, then holds
	ShapeTail    = "tail"    // latency: a fifth of the calls 10× slower, the rest as usual
	ShapePartial = "partial" // part of the group: 90% of a provider's attempts fail; half the service's capacity errs
)

// kindShapes are the shapes each kind is injected with.
var kindShapes = map[string][]string{
	KindProviderOutage:    {ShapeStep, ShapePartial},
	KindErrorSpike:        {ShapeStep, ShapeRamp, ShapePartial},
	KindLatencyRegression: {ShapeStep, ShapeRamp, ShapeTail},
	KindBuyThenRefund:     {ShapeStep},
	KindBotRepeat:         {ShapeStep},
	KindCategoryThreshold: {ShapeStep, ShapeRamp},
}

// kindMagnitudes are the peak intensities each kind is injected with
// (ground truth "magnitude"): outage users failing, error lines per
// minute, latency factor, buy+refund pairs, repetitions per minute, extra
// orders per minute.
var kindMagnitudes = map[string][]float64{
	KindProviderOutage:    {6, 12, 30},
	KindErrorSpike:        {15, 40, 100},
	KindLatencyRegression: {2.5, 4, 8},
	KindBuyThenRefund:     {1, 2, 3},
	KindBotRepeat:         {15, 25, 40},
	KindCategoryThreshold: {3, 8, 16},
}

// durationFactors scale a kind's duration (capped at half a slot).
var durationFactors = []float64{0.7, 1, 2, 3}

// kindDuration is each kind's base window length.
var kindDuration = map[string]time.Duration{
	KindProviderOutage:    15 * time.Minute,
	KindErrorSpike:        10 * time.Minute,
	KindLatencyRegression: 15 * time.Minute,
	KindBuyThenRefund:     20 * time.Minute,
	KindBotRepeat:         10 * time.Minute,
	KindCategoryThreshold: 15 * time.Minute,
}

// Sizes of the injected traffic; the ground truth reports the actual counts.
const (
	regressionOpsPerMin = 4  // extra operations so percentiles are well defined
	tailFactor          = 10 // a tail regression's slow calls
	tailShare           = 0.2
	refundWithinMinute  = 5 // injected refunds follow their buy within this many minutes
)

// Anomaly is one ground-truth line.
type Anomaly struct {
	Kind      string             `json:"kind"`
	Shape     string             `json:"shape"`
	Magnitude float64            `json:"magnitude"`
	Labels    map[string]string  `json:"labels"`
	Start     time.Time          `json:"start"`
	End       time.Time          `json:"end"`
	Stats     map[string]float64 `json:"stats"`
	// Effects are the labels of what else the anomaly shows in: a latency
	// regression of a callee slows its callers, whose durations include
	// its own (the cart's reservation waits for the inventory's, a buy for
	// its payment attempts); a provider outage makes the payments service
	// log an error for every failed attempt. An effect of another kind of
	// alert names it under "kind". An alert on an effect is explained by
	// this anomaly.
	Effects []map[string]string `json:"effects,omitempty"`

	users     map[string]struct{}
	durations []float64
	buyAt     map[string]time.Time // action of buy → time, for refund gaps
	injected  bool
	written   bool
}

func (a *Anomaly) in(t time.Time) bool { return !t.Before(a.Start) && t.Before(a.End) }

// level is the anomaly's intensity at t in (0, 1]: 1 for every shape but a
// ramp, which rises from 0.1 to 1 over the first two thirds of the span.
func (a *Anomaly) level(t time.Time) float64 {
	if a.Shape != ShapeRamp {
		return 1
	}
	frac := float64(t.Sub(a.Start)) / float64(a.End.Sub(a.Start))
	return math.Min(1, 0.1+0.9*frac/0.67)
}

// perMinute spreads rate×level events per minute over the span: the times
// of n(minute) events, in order.
func (a *Anomaly) perMinute(r interface{ Float64() float64 }, rate float64) []time.Time {
	var out []time.Time
	for m := a.Start; m.Before(a.End); m = m.Add(time.Minute) {
		end := minTime(m.Add(time.Minute), a.End)
		want := rate * a.level(m.Add(end.Sub(m)/2)) * end.Sub(m).Minutes()
		n := int(want)
		if r.Float64() < want-float64(n) {
			n++
		}
		for i := 0; i < n; i++ {
			out = append(out, m.Add(time.Duration((float64(i)+r.Float64())/float64(n)*float64(end.Sub(m)))))
		}
	}
	return out
}

// latencyTargets are the (service, operation) pairs a regression may hit.
var latencyTargets = [][2]string{
	{svcCart, events.TypeReserve}, {svcOrders, events.TypeBuy}, {svcPayments, events.TypePaymentAttempt},
	{svcInventory, events.TypeReserve}, {svcFrontend, events.TypePageView},
}

// callers are the operations whose duration includes the key's (ops.go).
var callers = map[[2]string][][2]string{
	{svcInventory, events.TypeReserve}:       {{svcCart, events.TypeReserve}},
	{svcPayments, events.TypePaymentAttempt}: {{svcOrders, events.TypeBuy}},
}

var spikeServices = []string{svcCart, svcInventory, svcOrders, svcPayments}

// schedule appends anomalies whose slot starts before horizon.
func (g *Generator) schedule(horizon time.Time) {
	kinds := g.kindOrder
	if len(kinds) == 0 {
		return
	}
	for {
		var slot time.Duration
		var slotStart time.Time
		if g.bounded {
			span := g.end.Sub(g.cfg.Start)
			n := max(len(kinds), int(span/g.cfg.AnomalyEvery))
			if g.nextSlot >= n {
				return
			}
			slot = span / time.Duration(n)
			slotStart = g.cfg.Start.Add(slot * time.Duration(g.nextSlot))
		} else {
			slot = g.cfg.AnomalyEvery
			slotStart = g.cfg.Start.Add(slot * time.Duration(g.nextSlot))
		}
		if slotStart.After(horizon) {
			return
		}
		kind := kinds[g.nextSlot%len(kinds)]
		g.nextSlot++
		r := g.ar
		shapes, mags := kindShapes[kind], kindMagnitudes[kind]
		shape, mag := shapes[r.IntN(len(shapes))], mags[r.IntN(len(mags))]
		dur := min(time.Duration(float64(kindDuration[kind])*durationFactors[r.IntN(len(durationFactors))]), slot/2).Truncate(time.Minute)
		// Anywhere in its slot: quiet hours and peaks alike.
		start := slotStart.Add(time.Duration(r.Float64() * float64(slot-dur))).Truncate(time.Second)
		a := &Anomaly{Kind: kind, Shape: shape, Magnitude: mag, Start: start, End: start.Add(dur), Labels: map[string]string{}, Stats: map[string]float64{},
			users: map[string]struct{}{}, buyAt: map[string]time.Time{}}
		switch kind {
		case KindProviderOutage:
			a.Labels["provider"] = providers[r.IntN(len(providers))].Provider
			// Failed payments log errors, fail checkouts (5xx), and users
			// whose retries switch provider check out seconds later.
			a.Effects = []map[string]string{{"kind": KindErrorSpike, "service": svcPayments}, {"kind": KindErrorSpike, "route": "checkout"},
				{"kind": KindLatencyRegression, "service": svcOrders, "operation": events.TypeBuy}}
		case KindErrorSpike:
			a.Labels["service"] = spikeServices[r.IntN(len(spikeServices))]
			switch a.Labels["service"] {
			case svcPayments:
				// Payments failing half its calls fails them at every
				// provider, and the checkouts that wait for them.
				a.Effects = []map[string]string{{"kind": KindProviderOutage}, {"service": svcOrders},
					{"kind": KindLatencyRegression, "service": svcOrders, "operation": events.TypeBuy}}
			case svcInventory:
				// The cart's reservations wait for the inventory's.
				a.Effects = []map[string]string{{"service": svcCart}}
			}
		case KindLatencyRegression:
			t := latencyTargets[r.IntN(len(latencyTargets))]
			a.Labels["service"], a.Labels["operation"] = t[0], t[1]
			for _, c := range callers[t] {
				a.Effects = append(a.Effects, map[string]string{"service": c[0], "operation": c[1]})
			}
			if t[1] == events.TypeBuy || t[1] == events.TypePaymentAttempt {
				// The operations injected so the slowdown shows at any
				// volume are checkouts: they add orders in every category.
				a.Effects = append(a.Effects, map[string]string{"kind": KindCategoryThreshold})
			}
		case KindBuyThenRefund:
			a.Labels["user_id"] = g.w.users[r.IntN(len(g.w.users))].id
		case KindBotRepeat:
			g.w.bots++
			a.Labels["user_id"] = fmt.Sprintf("bot-%04d", g.w.bots)
			a.Labels["client_ip"] = fmt.Sprintf("203.0.113.%d", 1+(g.w.bots*37)%254)
			a.Labels["operation"] = events.TypeReserve
			a.Labels["item"] = g.w.items[r.IntN(len(g.w.items))].Item
		case KindCategoryThreshold:
			a.Labels["category"] = categories[r.IntN(len(categories))]
		}
		g.anoms = append(g.anoms, a)
		g.live = append(g.live, a)
	}
}

// active returns the anomaly of kind whose window holds t, if any.
func (g *Generator) active(kind string, t time.Time) *Anomaly {
	for _, a := range g.live {
		if a.Kind == kind && a.in(t) {
			return a
		}
	}
	return nil
}

// observe tags p as in an anomaly's scope (exempt from faults) and counts it
// in that anomaly's ground truth.
func (g *Generator) observe(p *pending) {
	for _, a := range g.live {
		if !a.in(p.ts) {
			continue
		}
		if a.match(g, p) {
			p.exempt = true
		}
	}
}

func (a *Anomaly) match(g *Generator, p *pending) bool {
	ev, lg, ac := p.ev, p.lg, p.ac
	switch a.Kind {
	case KindProviderOutage:
		if ev == nil || ev.Type != events.TypePaymentAttempt || ev.Provider != a.Labels["provider"] {
			return false
		}
		a.Stats["attempts"]++
		if ev.Status == events.StatusFailed {
			a.Stats["failed_attempts"]++
			a.users[ev.UserID] = struct{}{}
		}
		return true
	case KindErrorSpike:
		svc := a.Labels["service"]
		switch {
		case lg != nil && lg.Service == svc && lg.Level == events.LevelError:
			a.Stats["error_logs"]++
		case ev != nil && ev.Service == svc:
			a.Stats["events"]++
			if ev.Status == events.StatusFailed {
				a.Stats["failed_events"]++
			}
		case ac != nil && p.service == svc:
			a.Stats["requests"]++
			if ac.Status >= 500 {
				a.Stats["requests_5xx"]++
			}
		default:
			return false
		}
		return true
	case KindLatencyRegression:
		if ev == nil || ev.Service != a.Labels["service"] || ev.Type != a.Labels["operation"] {
			return false
		}
		a.Stats["events"]++
		a.durations = append(a.durations, ev.DurationMs)
		return true
	case KindBuyThenRefund:
		if ev == nil || ev.UserID != a.Labels["user_id"] || ev.Service != svcOrders {
			return false
		}
		switch ev.Type {
		case events.TypeBuy:
			a.Stats["buys"]++
			a.buyAt[ev.ActionID] = ev.TS
		case events.TypeRefund:
			a.Stats["refunds"]++
		}
		return true
	case KindBotRepeat:
		if ac != nil && ac.ClientIP == a.Labels["client_ip"] {
			return true
		}
		if ev == nil || ev.UserID != a.Labels["user_id"] {
			return false
		}
		if ev.Type == a.Labels["operation"] && ev.Service == svcCart {
			a.Stats["repeats"]++
		}
		return true
	case KindCategoryThreshold:
		if ev == nil || ev.Type != events.TypeBuy || ev.Service != svcOrders || g.w.category(ev.Item) != a.Labels["category"] {
			return false
		}
		if ev.Status == events.StatusOK {
			a.Stats["orders"]++
			a.Stats["amount"] = math.Round((a.Stats["amount"]+ev.Amount)*100) / 100
		}
		return true
	}
	return false
}

// finish computes the derived stats.
func (a *Anomaly) finish() {
	switch a.Kind {
	case KindProviderOutage:
		a.Stats["users"] = float64(len(a.users))
	case KindLatencyRegression:
		a.Stats["factor"] = a.Magnitude
		if a.Shape == ShapeTail {
			a.Stats["factor"] = tailFactor
		}
		if len(a.durations) > 0 {
			d := slices.Clone(a.durations)
			slices.Sort(d)
			a.Stats["p95_ms"] = d[int(math.Ceil(0.95*float64(len(d))))-1]
		}
	}
}

// line encodes the ground-truth JSON line.
func (a *Anomaly) line() ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode ground truth: %w", err)
	}
	return append(b, '\n'), nil
}

// inject simulates the anomaly's own traffic across its window.
func (g *Generator) inject(a *Anomaly) {
	a.injected = true
	r := g.tr
	span := a.End.Sub(a.Start)
	at := func(i, n int) time.Time {
		return a.Start.Add(time.Duration((float64(i) + r.Float64()) / float64(n) * float64(span)))
	}
	switch a.Kind {
	case KindProviderOutage:
		p := providerIndex(a.Labels["provider"])
		n := int(a.Magnitude)
		for i := 0; i < n; i++ {
			u := g.w.users[r.IntN(len(g.w.users))]
			u.provider = p
			act := g.actor(&u)
			it := &g.w.items[r.IntN(len(g.w.items))]
			g.buy(act, at(i, n), it, 1, buyOpts{stickToProvider: true})
		}
	case KindErrorSpike:
		svc := a.Labels["service"]
		hosts := g.w.byService[svc]
		rate := a.Magnitude
		if a.Shape == ShapePartial {
			hosts, rate = hosts[:1], rate/2 // one host of the service
		}
		for _, t := range a.perMinute(r, rate) {
			h := hosts[r.IntN(len(hosts))]
			t := t.Truncate(time.Millisecond)
			f := failureFor(svc)
			g.push(&pending{ts: t, topic: events.TopicAppLogs, key: h.name, lg: &events.AppLog{
				TS: t, Level: events.LevelError, Service: svc, Host: h.name, Node: h.node, Module: f.module,
				File: f.file, Line: f.line, Message: f.message + ": connection pool exhausted",
			}})
		}
	case KindLatencyRegression:
		op := a.Labels["operation"]
		n := int(span.Minutes() * regressionOpsPerMin)
		for i := 0; i < n; i++ {
			u := &g.w.users[r.IntN(len(g.w.users))]
			act := g.actor(u)
			it := &g.w.items[r.IntN(len(g.w.items))]
			t := at(i, n)
			switch {
			case op == events.TypePageView:
				g.pageView(act, t, "/product/"+it.Item, it)
			case op == events.TypeReserve:
				g.reserve(act, t, it, 1)
			default: // buy or payment_attempt
				g.buy(act, t, it, 1, buyOpts{})
			}
		}
	case KindBuyThenRefund:
		u := g.w.userByID(a.Labels["user_id"])
		act := g.actor(u)
		// The first pair at the start, the others spread over the span;
		// each refund within minutes of its buy, all inside the span.
		pairs := int(a.Magnitude)
		usable := span - refundWithinMinute*time.Minute - time.Minute
		for i := 0; i < pairs; i++ {
			it := &g.w.items[r.IntN(len(g.w.items))]
			t := a.Start.Add(usable*time.Duration(i)/time.Duration(pairs) + time.Duration(r.Float64()*float64(20*time.Second)))
			end, ok, action := g.buy(act, t, it, 1, buyOpts{mustSucceed: true})
			if ok {
				g.refund(act, end.Add(time.Minute+time.Duration(r.Int64N(int64(refundWithinMinute-1)*int64(time.Minute)))), it, action)
			}
		}
	case KindBotRepeat:
		bot := user{id: a.Labels["user_id"], ip: a.Labels["client_ip"], agent: scannerAgents[1], provider: 0, currency: "EUR", bot: true}
		act := g.actor(&bot)
		it := g.w.item(a.Labels["item"])
		n := int(a.Magnitude * span.Minutes())
		a.Stats["injected_repeats"] = float64(n)
		for i := 0; i < n; i++ {
			g.reserve(act, at(i, n), it, 1)
		}
	case KindCategoryThreshold:
		idx := g.w.byCat[a.Labels["category"]]
		for _, t := range a.perMinute(r, a.Magnitude) {
			u := &g.w.users[r.IntN(len(g.w.users))]
			it := &g.w.items[idx[r.IntN(len(idx))]]
			g.buy(g.actor(u), t, it, 1+r.IntN(2), buyOpts{mustSucceed: true})
		}
	}
}

func (w *world) userByID(id string) *user {
	for i := range w.users {
		if w.users[i].id == id {
			return &w.users[i]
		}
	}
	return &w.users[0]
}

func (w *world) item(id string) *item {
	for i := range w.items {
		if w.items[i].Item == id {
			return &w.items[i]
		}
	}
	return &w.items[0]
}

func (w *world) category(id string) string {
	if w.catOf == nil {
		w.catOf = map[string]string{}
		for _, it := range w.items {
			w.catOf[it.Item] = it.Category
		}
	}
	return w.catOf[id]
}
