package generate

import (
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"weir/events"
)

// Operations of the simulated platform. Each user operation gets an
// action_id shared by every service that handles it, one event per service,
// one access-log line at the edge, and log lines; failures log their source
// location.

const (
	siteURL         = "https://shop.example.com"
	backgroundShare = 0.03 // share of Rate that is crawlers and scanners
	heartbeatLogP   = 0.3  // chance a host logs a health line per metric tick
)

type actor struct {
	u       *user
	session string
	prev    string // previous page, for the referrer
}

func (g *Generator) actor(u *user) *actor { return &actor{u: u, session: "s-" + g.hexID(6)} }

func (g *Generator) hexID(n int) string {
	var b [16]byte
	for i := 0; i < n; i += 8 {
		v := g.tr.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:n])
}

// uuid returns a random (version 4) UUID from the traffic stream.
func (g *Generator) uuid() string {
	var b [16]byte
	hi, lo := g.tr.Uint64(), g.tr.Uint64()
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func ms(d float64) time.Duration { return time.Duration(d * float64(time.Millisecond)) }

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round2(f float64) float64 { return math.Round(f*100) / 100 }

func (g *Generator) pickHost(svc string) *host {
	hs := g.w.byService[svc]
	return hs[g.tr.IntN(len(hs))]
}

// slow is the latency-regression factor for svc/op at t: the anomaly's
// magnitude (a ramp's share of it), or for a tail regression 10× for a
// fifth of the calls.
func (g *Generator) slow(svc, op string, t time.Time) float64 {
	a := g.active(KindLatencyRegression, t)
	if a == nil || a.Labels["service"] != svc || a.Labels["operation"] != op {
		return 1
	}
	switch a.Shape {
	case ShapeTail:
		if g.tr.Float64() < tailShare {
			return tailFactor
		}
		return 1
	case ShapeRamp:
		return 1 + (a.Magnitude-1)*a.level(t)
	}
	return a.Magnitude
}

func (g *Generator) duration(svc, op string, t time.Time, median float64) float64 {
	return round1(median * math.Exp(0.45*g.tr.NormFloat64()) * g.slow(svc, op, t))
}

// fails decides an organic failure of svc at t; an error spike makes half
// fail (a ramp's share of half; a partial one, on one of two hosts, a
// quarter).
func (g *Generator) fails(svc string, t time.Time, organic float64) bool {
	if a := g.active(KindErrorSpike, t); a != nil && a.Labels["service"] == svc {
		share := 0.5 * a.level(t)
		if a.Shape == ShapePartial {
			share = 0.25
		}
		return g.tr.Float64() < max(share, organic)
	}
	return g.tr.Float64() < organic
}

type failure struct {
	module, file string
	line         int
	message      string
}

var failures = map[string]failure{
	svcFrontend:  {"frontend.render", "internal/render/page.go", 142, "render page: template backend unavailable"},
	svcCart:      {"cart.handler", "internal/cart/handler.go", 87, "update cart: redis write failed"},
	svcInventory: {"inventory.stock", "internal/stock/reserve.go", 203, "reserve stock: row lock timeout"},
	svcOrders:    {"orders.checkout", "internal/checkout/checkout.go", 311, "checkout: payment not captured"},
	svcPayments:  {"payments.provider", "internal/provider/client.go", 214, "provider call failed"},
}

func failureFor(svc string) failure { return failures[svc] }

func (g *Generator) event(t time.Time, h *host, a *actor, typ, action string) *events.AppEvent {
	return &events.AppEvent{
		EventID: g.uuid(), ActionID: action, TS: t.Truncate(time.Millisecond), Service: h.service, Host: h.name,
		UserID: a.u.id, SessionID: a.session, Type: typ, Status: events.StatusOK,
	}
}

func (g *Generator) pushEvent(ev *events.AppEvent, h *host) {
	key := ev.UserID
	if key == "" {
		key = ev.SessionID
	}
	g.push(&pending{ts: ev.TS, topic: events.TopicAppEvents, key: key, ev: ev, host: h})
}

func (g *Generator) logLine(t time.Time, h *host, level, module, file string, line int, msg, action string) {
	key := action
	if key == "" {
		key = h.name
	}
	t = t.Truncate(time.Millisecond)
	g.push(&pending{ts: t, topic: events.TopicAppLogs, key: key, lg: &events.AppLog{
		TS: t, Level: level, Service: h.service, Host: h.name, Node: h.node, Module: module,
		File: file, Line: line, Message: msg, ActionID: action,
	}})
}

// opLogs logs the outcome of one service's part of an operation.
func (g *Generator) opLogs(t time.Time, h *host, ev *events.AppEvent, detail string) {
	if ev.Status == events.StatusFailed {
		f := failureFor(h.service)
		g.logLine(t, h, events.LevelError, f.module, f.file, f.line, f.message+": "+detail, ev.ActionID)
		return
	}
	switch x := g.tr.Float64(); {
	case x < 0.25:
		g.logLine(t, h, events.LevelInfo, h.service+".handler", "", 0,
			ev.Type+" ok "+detail+" in "+strconv.FormatFloat(ev.DurationMs, 'f', 1, 64)+"ms", ev.ActionID)
	case x < 0.30:
		g.logLine(t, h, events.LevelDebug, h.service+".handler", "", 0, "cache lookup for "+ev.Type+" "+detail, ev.ActionID)
	}
}

func (g *Generator) access(a *actor, t time.Time, svc string, h *host, method, path string, status int, bytes int64, reqMs float64, cache string) {
	ref := a.prev
	if ref == "" {
		ref = "https://www.google.com/"
	} else {
		ref = siteURL + ref
	}
	g.push(&pending{ts: t, topic: events.TopicWebAccess, key: a.u.ip, service: svc, host: h, ac: &events.AccessLog{
		ClientIP: a.u.ip, Time: t.Truncate(time.Second), Method: method, Path: path, Protocol: "HTTP/1.1",
		Status: status, Bytes: bytes, Referrer: ref, UserAgent: a.u.agent, RequestTimeMs: math.Round(reqMs), CacheStatus: cache,
	}})
}

func (g *Generator) bytesAround(median float64) int64 {
	return int64(median * math.Exp(0.6*g.tr.NormFloat64()))
}

// session simulates one visit: page views, then maybe a reservation that
// ends in a purchase, a cancellation or nothing.
func (g *Generator) session(t time.Time) {
	u := &g.w.users[g.w.userZipf.Uint64()]
	a := g.actor(u)
	pages := 1 + int(g.tr.ExpFloat64()*3)
	var interest *item
	for i := 0; i < min(pages, 40); i++ {
		path, it := g.pickPage()
		t = g.pageView(a, t, path, it)
		if it != nil {
			interest = it
		}
		t = t.Add(time.Duration((2 + g.tr.ExpFloat64()*20) * float64(time.Second)))
	}
	if interest == nil || g.tr.Float64() >= 0.35 {
		return
	}
	qty := 1
	if g.tr.Float64() < 0.2 {
		qty = 2 + g.tr.IntN(2)
	}
	t, ok := g.reserve(a, t, interest, qty)
	if !ok {
		return
	}
	t = t.Add(time.Duration((5 + g.tr.ExpFloat64()*40) * float64(time.Second)))
	switch x := g.tr.Float64(); {
	case x < 0.55:
		end, ok, action := g.buy(a, t, interest, qty, buyOpts{})
		if ok && g.tr.Float64() < 0.04 {
			later := time.Hour + time.Duration(g.tr.Float64()*float64(71*time.Hour))
			g.refund(a, end.Add(later), interest, action)
		}
	case x < 0.80:
		g.cancel(a, t, interest, qty)
	}
}

var searchWords = []string{"lamp", "gift", "headphones", "sale", "kids", "garden+chair", "running", "novel"}

func (g *Generator) pickPage() (string, *item) {
	switch x := g.tr.Float64(); {
	case x < 0.15:
		return "/", nil
	case x < 0.40:
		return "/category/" + categories[g.tr.IntN(len(categories))], nil
	case x < 0.85:
		it := &g.w.items[g.tr.IntN(len(g.w.items))]
		return "/product/" + it.Item, it
	case x < 0.95:
		return "/search?q=" + searchWords[g.tr.IntN(len(searchWords))], nil
	default:
		return "/account", nil
	}
}

// pageView renders one page: an event, the page request and its static files.
func (g *Generator) pageView(a *actor, t time.Time, path string, it *item) time.Time {
	h := g.pickHost(svcFrontend)
	ev := g.event(t, h, a, events.TypePageView, g.uuid())
	ev.Page = path
	if it != nil {
		ev.Item = it.Item
	}
	ev.DurationMs = g.duration(svcFrontend, events.TypePageView, t, 35)
	status, bytes := 200, g.bytesAround(24_000)
	switch {
	case g.fails(svcFrontend, t, 0.002):
		ev.Status, status, bytes = events.StatusFailed, 500, 512+g.tr.Int64N(200)
	case path == "/account" && g.tr.Float64() < 0.6:
		status, bytes = 302, 0
	}
	g.pushEvent(ev, h)
	g.opLogs(t.Add(ms(ev.DurationMs)), h, ev, path)
	g.access(a, t, svcFrontend, h, "GET", path, status, bytes, ev.DurationMs, "MISS")
	a.prev = path
	if status != 200 {
		return t.Add(ms(ev.DurationMs))
	}
	// Static files: a cold cache fetches several, a warm one revalidates.
	n := g.tr.IntN(5)
	st := t.Add(ms(ev.DurationMs))
	for i := 0; i < n; i++ {
		f := staticFiles[g.tr.IntN(len(staticFiles))]
		st = st.Add(ms(2 + g.tr.Float64()*30))
		if g.tr.Float64() < 0.4 {
			g.access(a, st, svcFrontend, h, "GET", f, 304, 0, 1, "HIT")
		} else {
			g.access(a, st, svcFrontend, h, "GET", f, 200, g.bytesAround(40_000), 2+g.tr.Float64()*10, "HIT")
		}
	}
	return st
}

// reserve puts qty of it in the cart: cart and inventory both handle it.
func (g *Generator) reserve(a *actor, t time.Time, it *item, qty int) (time.Time, bool) {
	action := g.uuid()
	hc, hi := g.pickHost(svcCart), g.pickHost(svcInventory)
	inv := g.event(t.Add(ms(3)), hi, a, events.TypeReserve, action)
	inv.Item = it.Item
	inv.DurationMs = g.duration(svcInventory, events.TypeReserve, t, 25)
	status := 201
	switch {
	case g.fails(svcInventory, t, 0.002):
		inv.Status, status = events.StatusFailed, 503
	case g.tr.Float64() < 0.01:
		inv.Status, status = events.StatusFailed, 409 // out of stock
	}
	cart := g.event(t, hc, a, events.TypeReserve, action)
	cart.Item, cart.Amount, cart.Currency = it.Item, round2(it.Price*float64(qty)), a.u.currency
	cart.DurationMs = round1(g.duration(svcCart, events.TypeReserve, t, 15) + inv.DurationMs)
	if inv.Status == events.StatusOK && g.fails(svcCart, t, 0.002) {
		status = 503
	}
	if status != 201 {
		cart.Status = events.StatusFailed
	}
	end := t.Add(ms(cart.DurationMs))
	g.pushEvent(inv, hi)
	g.opLogs(inv.TS.Add(ms(inv.DurationMs)), hi, inv, "item="+it.Item+" qty="+strconv.Itoa(qty))
	g.pushEvent(cart, hc)
	g.opLogs(end, hc, cart, "item="+it.Item)
	g.access(a, t, svcCart, hc, "POST", "/api/cart/items", status, 180+g.tr.Int64N(60), cart.DurationMs, "-")
	return end, status == 201
}

func (g *Generator) cancel(a *actor, t time.Time, it *item, qty int) {
	action := g.uuid()
	hc, hi := g.pickHost(svcCart), g.pickHost(svcInventory)
	inv := g.event(t.Add(ms(2)), hi, a, events.TypeCancelReservation, action)
	inv.Item, inv.DurationMs = it.Item, g.duration(svcInventory, events.TypeCancelReservation, t, 20)
	cart := g.event(t, hc, a, events.TypeCancelReservation, action)
	cart.Item, cart.DurationMs = it.Item, round1(g.duration(svcCart, events.TypeCancelReservation, t, 10)+inv.DurationMs)
	status := 204
	if g.fails(svcCart, t, 0.001) {
		cart.Status, status = events.StatusFailed, 503
	}
	g.pushEvent(inv, hi)
	g.opLogs(inv.TS.Add(ms(inv.DurationMs)), hi, inv, "item="+it.Item+" qty="+strconv.Itoa(qty))
	g.pushEvent(cart, hc)
	g.opLogs(t.Add(ms(cart.DurationMs)), hc, cart, "item="+it.Item)
	g.access(a, t, svcCart, hc, "DELETE", "/api/cart/items/"+it.Item, status, 0, cart.DurationMs, "-")
}

type buyOpts struct {
	stickToProvider bool // retries stay on the user's provider (outage victims)
	mustSucceed     bool // no organic decline (injected buyers)
}

// buy checks out: payment attempts (with retries, maybe switching provider)
// then the order. It returns when the order finished, whether it succeeded,
// and its action id.
func (g *Generator) buy(a *actor, t time.Time, it *item, qty int, o buyOpts) (time.Time, bool, string) {
	action := g.uuid()
	ho := g.pickHost(svcOrders)
	amount := round2(it.Price * float64(qty))
	prov := a.u.provider
	tt := t.Add(ms(5 + g.tr.Float64()*10))
	ok, timedOut, attempts := false, false, 0
	for n := 1; n <= 3; n++ {
		attempts = n
		p := providers[prov]
		hp := g.pickHost(svcPayments)
		fail, timeout := false, false
		outage := g.active(KindProviderOutage, tt)
		switch {
		case outage != nil && outage.Labels["provider"] == p.Provider && (outage.Shape != ShapePartial || g.tr.Float64() < 0.9):
			fail, timeout = true, true
		case o.mustSucceed:
		default:
			fail = g.fails(svcPayments, tt, p.failRate)
			timeout = fail && g.tr.Float64() < 0.3
		}
		ev := g.event(tt, hp, a, events.TypePaymentAttempt, action)
		ev.Item, ev.Provider, ev.Amount, ev.Currency, ev.Attempt = it.Item, p.Provider, amount, a.u.currency, n
		if timeout {
			ev.DurationMs = round1(3000 + g.tr.Float64()*2000)
		} else {
			ev.DurationMs = g.duration(svcPayments, events.TypePaymentAttempt, tt, p.medianMs)
		}
		done := tt.Add(ms(ev.DurationMs))
		if fail {
			ev.Status = events.StatusFailed
		}
		g.pushEvent(ev, hp)
		switch {
		case timeout:
			f := failureFor(svcPayments)
			g.logLine(done, hp, events.LevelError, f.module, "internal/provider/"+p.Provider+".go", f.line,
				"provider "+p.Provider+" timeout after "+strconv.Itoa(int(ev.DurationMs))+"ms (attempt "+strconv.Itoa(n)+")", action)
		case fail:
			g.logLine(done, hp, events.LevelWarn, "payments.provider", "internal/provider/"+p.Provider+".go", 131,
				"payment declined by "+p.Provider+": insufficient funds (attempt "+strconv.Itoa(n)+")", action)
		default:
			g.opLogs(done, hp, ev, "provider="+p.Provider)
		}
		tt = done
		if !fail {
			ok = true
			break
		}
		timedOut = timeout
		if n < 3 && !o.stickToProvider && g.tr.Float64() < 0.3 {
			prov = (prov + 1 + g.tr.IntN(len(providers)-1)) % len(providers)
		}
		tt = tt.Add(time.Duration(200<<(n-1)) * time.Millisecond)
	}
	own := g.duration(svcOrders, events.TypeBuy, t, 25)
	total := round1(float64(tt.Sub(t))/float64(time.Millisecond) + own)
	if f := g.slow(svcOrders, events.TypeBuy, t); f > 1 {
		total = round1(total * f / 2) // own is already slowed; stretch the rest too
	}
	end := t.Add(ms(total))
	ev := g.event(end, ho, a, events.TypeBuy, action)
	ev.Item, ev.Amount, ev.Currency, ev.Provider, ev.DurationMs = it.Item, amount, a.u.currency, providers[prov].Provider, total
	ev.OrderID = action
	status := 200
	if !ok {
		ev.Status, status = events.StatusFailed, 402
		if timedOut {
			status = 502
		}
	}
	g.pushEvent(ev, ho)
	g.opLogs(end, ho, ev, "item="+it.Item+" attempts="+strconv.Itoa(attempts))
	g.access(a, t, svcOrders, ho, "POST", "/api/checkout", status, 300+g.tr.Int64N(200), total, "-")
	return end, ok, action
}

// refund returns a purchase: orders and payments both record it.
func (g *Generator) refund(a *actor, t time.Time, it *item, buyAction string) {
	action := g.uuid()
	ho, hp := g.pickHost(svcOrders), g.pickHost(svcPayments)
	prov := providers[a.u.provider].Provider
	pay := g.event(t.Add(ms(4)), hp, a, events.TypeRefund, action)
	pay.Item, pay.Provider, pay.Amount, pay.Currency, pay.OrderID = it.Item, prov, it.Price, a.u.currency, buyAction
	pay.DurationMs = g.duration(svcPayments, events.TypeRefund, t, 220)
	ord := g.event(t, ho, a, events.TypeRefund, action)
	ord.Item, ord.Provider, ord.Amount, ord.Currency, ord.OrderID = it.Item, prov, it.Price, a.u.currency, buyAction
	ord.DurationMs = round1(g.duration(svcOrders, events.TypeRefund, t, 20) + pay.DurationMs)
	g.pushEvent(pay, hp)
	g.opLogs(pay.TS.Add(ms(pay.DurationMs)), hp, pay, "provider="+prov)
	g.pushEvent(ord, ho)
	g.opLogs(t.Add(ms(ord.DurationMs)), ho, ord, "order="+buyAction[:8])
	g.access(a, t, svcOrders, ho, "POST", "/api/orders/"+buyAction[:8]+"/refund", 200, 120+g.tr.Int64N(40), ord.DurationMs, "-")
}

// background is one request from a crawler or a vulnerability scanner.
func (g *Generator) background(t time.Time) {
	h := g.pickHost(svcFrontend)
	if g.tr.Float64() < 0.6 {
		c := &g.w.crawlers[g.tr.IntN(len(g.w.crawlers))]
		a := &actor{u: c}
		path, _ := g.pickPage()
		status, bytes := 200, g.bytesAround(24_000)
		switch x := g.tr.Float64(); {
		case x < 0.05:
			path, bytes = "/robots.txt", 180
		case x < 0.10:
			path, status, bytes = "/product/sku-"+strconv.Itoa(90000+g.tr.IntN(9999)), 404, 1500
		case x < 0.13:
			path, status, bytes = "/shop/", 301, 0
		}
		g.access(a, t, svcFrontend, h, "GET", path, status, bytes, g.duration(svcFrontend, "crawl", t, 20), "MISS")
		return
	}
	s := &g.w.scanners[g.tr.IntN(len(g.w.scanners))]
	a := &actor{u: s, prev: ""}
	status := 404
	if g.tr.Float64() < 0.2 {
		status = 403
	}
	method := "GET"
	if g.tr.Float64() < 0.2 {
		method = "POST"
	}
	g.access(a, t, svcFrontend, h, method, scannerPaths[g.tr.IntN(len(scannerPaths))], status, 150+g.tr.Int64N(400), 1+g.tr.Float64()*3, "-")
}
