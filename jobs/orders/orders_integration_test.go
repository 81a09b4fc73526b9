//go:build integration

package orders_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/events"
	"weir/internal/stacktest"
	"weir/jobs/orders"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/kafkaio"
	"weir/trino"
)

// input is the test's orders: dimension records and app events (a
// duplicate and a record that is not JSON included), as Kafka records.
type input struct {
	dims   map[string]events.DimItem // the last record of each key
	events []events.AppEvent         // valid ones, the duplicate included
	recs   []silvertest.Record
}

// newInput builds orders of four users over five items (one unknown to the
// dimensions) across two days: ok and failed buys, refunds (two events each,
// as orders and payments record them), status events ("preparing",
// "served") carrying order_status, a refund before its buy's day ends, and
// one order served without an ok buy.
func newInput(base time.Time) input {
	in := input{dims: map[string]events.DimItem{}}
	dim := func(d events.DimItem) {
		in.dims[d.Item] = d
		in.recs = append(in.recs, silvertest.Record{Topic: events.TopicDimItems, Key: []byte(d.Item), Value: d.AppendJSON(nil)})
	}
	dim(events.DimItem{Item: "sku-1", Name: "Espresso", Category: "drinks", Price: 2.5})
	dim(events.DimItem{Item: "sku-2", Name: "Bagel", Category: "bakery", Price: 3})
	dim(events.DimItem{Item: "sku-3", Name: "Green tea", Category: "drinks", Price: 2})
	dim(events.DimItem{Item: "sku-4", Name: "Soup", Category: "kitchen", Price: 6})
	dim(events.DimItem{Item: "sku-2", Name: "Bagel", Category: "food", Price: 3.2}) // a later record wins
	add := func(e events.AppEvent) {
		in.events = append(in.events, e)
		in.recs = append(in.recs, silvertest.Record{Topic: events.TopicAppEvents, Key: []byte(e.EventID), Value: e.AppendJSON(nil)})
	}
	r := rand.New(rand.NewPCG(17, 3))
	items := []string{"sku-1", "sku-2", "sku-3", "sku-4", "sku-9"}
	n := 0
	id := func() string { n++; return fmt.Sprintf("ev-%03d", n) }
	for i := range 40 {
		user := fmt.Sprintf("u%d", 1+r.IntN(4))
		item := items[r.IntN(len(items))]
		order := fmt.Sprintf("order-%02d", i)
		ts := base.Add(time.Duration(i)*47*time.Minute + time.Duration(r.IntN(600))*time.Second)
		amount := float64(100+r.IntN(900)) / 100
		status := events.StatusOK
		if i%9 == 4 {
			status = events.StatusFailed
		}
		buy := events.AppEvent{EventID: id(), ActionID: order, OrderID: order, TS: ts, Service: "orders", Host: "h1",
			UserID: user, Type: events.TypeBuy, Item: item, Amount: amount, Currency: "EUR", Status: status,
			DurationMs: 12, Extra: events.Extra{"order_status": `"placed"`}}
		add(buy)
		if i == 3 {
			add(buy) // a producer's duplicate: the same event_id
		}
		stage := func(s string, after time.Duration) {
			add(events.AppEvent{EventID: id(), ActionID: order + "-" + s, OrderID: order, TS: ts.Add(after), Service: "kitchen",
				Host: "h2", UserID: user, Type: events.TypeReserve, Item: item, Status: events.StatusOK, DurationMs: 3,
				Extra: events.Extra{"order_status": `"` + s + `"`}})
		}
		if i%3 != 2 {
			stage("preparing", 2*time.Minute)
			if i%4 != 1 {
				stage("served", 9*time.Minute)
			}
		}
		if i%5 == 1 || i == 13 {
			refund := "refund-" + order
			for _, svc := range []string{"payments", "orders"} {
				add(events.AppEvent{EventID: id(), ActionID: refund, OrderID: order, TS: ts.Add(30 * time.Minute), Service: svc,
					Host: "h1", UserID: user, Type: events.TypeRefund, Item: item, Amount: amount, Currency: "EUR",
					Status: events.StatusOK, DurationMs: 20})
			}
		}
	}
	// Not an order event, and a record no parser accepts.
	add(events.AppEvent{EventID: id(), ActionID: "view-1", TS: base, Service: "web", Host: "h1", UserID: "u1",
		Type: events.TypePageView, Page: "/menu", Status: events.StatusOK, DurationMs: 1})
	in.recs = append(in.recs, silvertest.Record{Topic: events.TopicAppEvents, Key: []byte("bad"), Value: []byte(`{"event_id":`)})
	return in
}

// martRow is one row of a mart view.
type martRow struct {
	User, Key   string
	Orders      int64
	Amount      float64
	First, Last time.Time
}

func (m martRow) String() string {
	return fmt.Sprintf("%s/%s: %d orders, %.2f, %s..%s", m.User, m.Key, m.Orders, m.Amount,
		m.First.UTC().Format(time.RFC3339), m.Last.UTC().Format(time.RFC3339))
}

// expected computes both marts from the input in Go, by the rules of the
// package contract, without SQL.
func expected(in input, finals []string) (byItem, byCategory map[string]martRow) {
	type order struct {
		user, item        string
		buyAmount, anyAmt float64
		hasBuyAmt, hasAny bool
		buyTS, firstTS    time.Time
		bought, refunded  bool
		final             bool
	}
	seen := map[string]bool{}
	byID := map[string]*order{}
	for _, e := range in.events {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		id := e.OrderID
		if id == "" {
			if e.Type != events.TypeBuy {
				continue
			}
			id = e.ActionID
		}
		o := byID[id]
		if o == nil {
			o = &order{}
			byID[id] = o
		}
		if o.user == "" || e.Type == events.TypeBuy {
			o.user, o.item = e.UserID, e.Item
		}
		ok := e.Status == events.StatusOK
		if e.Type == events.TypeBuy && ok {
			o.bought = true
			o.buyAmount, o.hasBuyAmt = math.Max(o.buyAmount, e.Amount), true
			if o.buyTS.IsZero() || e.TS.Before(o.buyTS) {
				o.buyTS = e.TS
			}
		}
		if e.Type != events.TypeRefund && e.Amount != 0 {
			o.anyAmt, o.hasAny = math.Max(o.anyAmt, e.Amount), true
		}
		if e.Type == events.TypeRefund && ok {
			o.refunded = true
		}
		if o.firstTS.IsZero() || e.TS.Before(o.firstTS) {
			o.firstTS = e.TS
		}
		var st string
		if raw, has := e.Extra["order_status"]; has {
			_ = json.Unmarshal([]byte(raw), &st)
		}
		if slices.Contains(finals, st) {
			o.final = true
		}
	}
	byItem, byCategory = map[string]martRow{}, map[string]martRow{}
	add := func(m map[string]martRow, user, key string, amount float64, ts time.Time) {
		k := user + "/" + key
		r, has := m[k]
		if !has {
			r = martRow{User: user, Key: key, First: ts, Last: ts}
		}
		r.Orders++
		r.Amount += amount
		if ts.Before(r.First) {
			r.First = ts
		}
		if ts.After(r.Last) {
			r.Last = ts
		}
		m[k] = r
	}
	for _, o := range byID {
		closed := o.bought
		if len(finals) > 0 {
			closed = o.final
		}
		if o.refunded || !closed {
			continue
		}
		amount := o.anyAmt
		if o.hasBuyAmt {
			amount = o.buyAmount
		}
		ts := o.firstTS
		if o.bought {
			ts = o.buyTS
		}
		category := "unknown"
		if d, ok := in.dims[o.item]; ok {
			category = d.Category
		}
		add(byItem, o.user, o.item, amount, ts)
		add(byCategory, o.user, category, amount, ts)
	}
	return byItem, byCategory
}

func readMart(t *testing.T, ctx context.Context, db *sql.DB, query string) map[string]martRow {
	t.Helper()
	out := map[string]martRow{}
	err := trino.Each(ctx, db, query, func(row trino.Scanner) error {
		var r martRow
		if err := row.Scan(&r.User, &r.Key, &r.Orders, &r.Amount, &r.First, &r.Last); err != nil {
			return err
		}
		r.Amount = math.Round(r.Amount*100) / 100
		out[r.User+"/"+r.Key] = r
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func sameMart(t *testing.T, what string, got, want map[string]martRow) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := want[k]
		w.Amount = math.Round(w.Amount*100) / 100
		g, ok := got[k]
		if !ok || g.Orders != w.Orders || g.Amount != w.Amount || !g.First.Equal(w.First) || !g.Last.Equal(w.Last) {
			t.Errorf("%s %s: got %v, want %v", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s: unexpected row %v", what, k, g)
		}
	}
}

// snapshot is everything a replay must leave as it was: every column of
// gold.orders (updated_at included: no row may be rewritten) and both marts.
func snapshot(t *testing.T, ctx context.Context, db *sql.DB, cfg orders.MartsConfig) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		fmt.Sprintf("SELECT * FROM %s ORDER BY order_id", trino.Qualified(cfg.Catalog, cfg.Gold, orders.TableOrders)),
		fmt.Sprintf("SELECT * FROM %s ORDER BY 1, 2", trino.Qualified(cfg.Catalog, cfg.Gold, orders.ViewUserItem)),
		fmt.Sprintf("SELECT * FROM %s ORDER BY 1, 2", trino.Qualified(cfg.Catalog, cfg.Gold, orders.ViewUserCategory)),
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		err = trino.Values(rows, func(vals []any) error {
			out = append(out, fmt.Sprint(vals...))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return out
}

// TestOrderMartsReplay: the test's orders go through bronze and silver into
// gold.orders and the two marts, in two configurations (closed on buy;
// closed on the final status "served"); both marts equal a Go computation
// over the input. Then the same input is loaded again (a replay: new
// offsets, same records) and silver and the marts run again: silver keeps
// one row per event and nothing in gold.orders or the marts changes, not
// even a row's updated_at.
//
// Isolation: silvertest's namespaces and gold schemas gold_<prefix>[_final].
func TestOrderMartsReplay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env := silvertest.New(t)
	cfg := stacktest.Config(t)
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // after the schemas' drops (cleanups run last first)
	in := newInput(time.Now().UTC().Truncate(time.Hour).Add(-40 * time.Hour))
	prefix := "gold_" + strings.TrimSuffix(env.NS.Silver, "_silver")
	configs := map[string]orders.MartsConfig{}
	for _, mode := range []string{"buy", "final"} {
		c := orders.DefaultMartsConfig(cfg.Trino.Catalog)
		c.Silver, c.Gold = env.NS.Silver, prefix
		if mode == "final" {
			c.Gold, c.FinalStatuses = prefix+"_final", []string{"served"}
		}
		configs[mode] = c
		t.Cleanup(func() { dropGold(t, db, c) })
	}
	build := func() {
		t.Helper()
		env.LoadBronze(t, in.recs, time.Now())
		if _, err := silver.New(env.Lake, silver.Config{Namespaces: env.NS}).Run(ctx, silver.SourceAll); err != nil {
			t.Fatalf("silver: %v", err)
		}
		for _, mode := range []string{"buy", "final"} {
			if _, err := orders.Marts(ctx, db, configs[mode], slog.Default()); err != nil {
				t.Fatalf("marts (%s): %v", mode, err)
			}
		}
	}
	// As weir init does: the table and views exist, empty, before any run.
	if err := orders.EnsureMarts(ctx, db, configs["buy"]); err != nil {
		t.Fatal(err)
	}
	if rows := snapshot(t, ctx, db, configs["buy"]); len(rows) != 0 {
		t.Fatalf("gold.orders and the marts before any run: %v, want nothing", rows)
	}
	build()
	before := map[string][]string{}
	for mode, c := range configs {
		var finals []string
		if mode == "final" {
			finals = c.FinalStatuses
		}
		wantItem, wantCat := expected(in, finals)
		if len(wantItem) < 10 || len(wantCat) < 6 {
			t.Fatalf("%s: input too thin: %d item rows, %d category rows", mode, len(wantItem), len(wantCat))
		}
		sameMart(t, mode+" by item", readMart(t, ctx, db, fmt.Sprintf(
			"SELECT user_id, item, orders, amount, first_order_at, last_order_at FROM %s",
			trino.Qualified(c.Catalog, c.Gold, orders.ViewUserItem))), wantItem)
		sameMart(t, mode+" by category", readMart(t, ctx, db, fmt.Sprintf(
			"SELECT user_id, category, orders, amount, first_order_at, last_order_at FROM %s",
			trino.Qualified(c.Catalog, c.Gold, orders.ViewUserCategory))), wantCat)
		before[mode] = snapshot(t, ctx, db, c)
	}
	if t.Failed() {
		return
	}

	build() // the replay
	events := env.Count(t, env.NS.Table("silver.events"))
	if want := int64(len(in.events) - 1); events != want { // the duplicate once
		t.Errorf("silver.events holds %d rows after the replay, want %d", events, want)
	}
	for mode, c := range configs {
		after := snapshot(t, ctx, db, c)
		if !slices.Equal(before[mode], after) {
			t.Errorf("%s: the replay changed gold.orders or the marts:\nbefore %v\nafter  %v", mode, before[mode], after)
		}
	}
}

func dropGold(t *testing.T, db *sql.DB, c orders.MartsConfig) {
	ctx := context.Background()
	for _, stmt := range []string{
		"DROP VIEW IF EXISTS " + trino.Qualified(c.Catalog, c.Gold, orders.ViewUserItem),
		"DROP VIEW IF EXISTS " + trino.Qualified(c.Catalog, c.Gold, orders.ViewUserCategory),
		"DROP TABLE IF EXISTS " + trino.Qualified(c.Catalog, c.Gold, orders.TableOrders),
		"DROP SCHEMA IF EXISTS " + trino.Qualified(c.Catalog, c.Gold),
	} {
		if err := trino.Exec(ctx, db, stmt); err != nil {
			t.Logf("%s: %v", stmt, err)
		}
	}
}

// TestEnrichReplay: the test's records go to prefixed app.events and
// dims.items topics; one enrich run produces one message per valid event,
// keyed by event_id, in contract version 1 with the item's name and
// category (the last dims record of a key), and skips the record that does
// not parse. A run with nothing new produces nothing. Then the events are
// produced again (a replay) and enriched again: the topic holds twice the
// messages but the same distinct content, every key with identical bytes.
//
// Isolation: topics weir.test.<id>.*, group of its own; deleted at the end.
func TestEnrichReplay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := stacktest.Config(t)
	prefix := stacktest.TopicPrefix(t)
	ec := orders.EnrichConfig{Events: prefix + events.TopicAppEvents, DimItems: prefix + events.TopicDimItems,
		Out: prefix + events.TopicAppEventsEnriched, Group: prefix + "enrich"}
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, []kafkaio.TopicSpec{
		{Name: ec.Events, Partitions: 3}, {Name: ec.DimItems, Partitions: 1, Config: map[string]string{"cleanup.policy": "compact"}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := kafkaio.DeleteTopics(context.Background(), cfg.Kafka, []string{ec.Events, ec.DimItems, ec.Out}, []string{ec.Group}); err != nil {
			t.Logf("%v", err)
		}
	})
	in := newInput(time.Now().UTC().Truncate(time.Hour).Add(-40 * time.Hour))
	p, err := kafkaio.NewProducer(cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	produce := func(topic string) {
		t.Helper()
		for _, r := range in.recs {
			if r.Topic == topic {
				name := ec.Events
				if topic == events.TopicDimItems {
					name = ec.DimItems
				}
				if err := p.Produce(ctx, name, r.Key, r.Value); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	enrich := func(wantRead, wantProduced int64) {
		t.Helper()
		res, err := orders.Enrich(ctx, cfg.Kafka, ec, slog.Default())
		if err != nil {
			t.Fatalf("enrich: %v", err)
		}
		if res.Read != wantRead || res.Produced != wantProduced {
			t.Fatalf("enrich read %d, produced %d; want %d, %d (%+v)", res.Read, res.Produced, wantRead, wantProduced, res)
		}
	}
	read := func() (n int, distinct map[string]string) {
		t.Helper()
		distinct = map[string]string{}
		err := kafkaio.ReadAll(ctx, cfg.Kafka, ec.Out, func(m *kafka.Message) error {
			n++
			if prev, ok := distinct[string(m.Key)]; ok && prev != string(m.Value) {
				return fmt.Errorf("key %s: two contents:\n%s\n%s", m.Key, prev, m.Value)
			}
			distinct[string(m.Key)] = string(m.Value)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, distinct
	}
	produce(events.TopicDimItems)
	produce(events.TopicAppEvents)
	records := int64(len(in.events) + 1) // the bad one
	valid := int64(len(in.events))
	enrich(records, valid)
	enrich(0, 0)
	n, first := read()
	if n != int(valid) || len(first) != len(in.events)-1 {
		t.Fatalf("enriched topic: %d messages, %d keys; want %d, %d", n, len(first), valid, len(in.events)-1)
	}
	for _, e := range in.events {
		var msg map[string]any
		if err := json.Unmarshal([]byte(first[e.EventID]), &msg); err != nil {
			t.Fatalf("%s: %v", e.EventID, err)
		}
		d, known := in.dims[e.Item]
		if msg["v"] != float64(1) || msg["event_id"] != e.EventID || msg["item"] != nilIfEmpty(e.Item) ||
			msg["item_name"] != nilIfEmpty(d.Name) || msg["item_category"] != nilIfEmpty(d.Category) {
			t.Errorf("%s (item %s known %v): %s", e.EventID, e.Item, known, first[e.EventID])
		}
		if e.Extra["order_status"] != "" {
			if x, _ := msg["extra"].(map[string]any); x == nil || fmt.Sprintf(`"%v"`, x["order_status"]) != e.Extra["order_status"] {
				t.Errorf("%s: extra order_status lost: %s", e.EventID, first[e.EventID])
			}
		}
	}

	produce(events.TopicAppEvents) // the replay
	enrich(records, valid)
	n, again := read()
	if n != 2*int(valid) {
		t.Errorf("enriched topic after the replay: %d messages, want %d", n, 2*valid)
	}
	if !maps.Equal(first, again) {
		t.Errorf("the replay changed the enriched topic's distinct content: %d keys before, %d after", len(first), len(again))
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
