package events

import (
	"encoding/json"
	"testing"
	"time"
)

// TestEnrichedJSON: the version 1 contract's encoding is valid JSON with the
// documented fields, optional ones absent when empty, unknown fields under
// extra, and the same bytes for the same event.
func TestEnrichedJSON(t *testing.T) {
	ts := time.Date(2026, 12, 5, 1, 2, 3, 456000000, time.UTC)
	for _, tc := range []struct {
		name string
		in   EnrichedEvent
		want map[string]any
	}{
		{"buy of a known item", EnrichedEvent{Event: AppEvent{EventID: "e1", ActionID: "a1", OrderID: "a1", TS: ts, Service: "orders",
			Host: "h1", UserID: "u1", Type: TypeBuy, Item: "sku-1", Amount: 12.5, Currency: "EUR", Status: StatusOK, DurationMs: 3,
			Extra: Extra{"order_status": `"placed"`, "n": "2"}}, ItemName: "Espresso", ItemCategory: "drinks"},
			map[string]any{"v": 1.0, "event_id": "e1", "action_id": "a1", "order_id": "a1", "ts": "2026-12-05T01:02:03.456Z",
				"service": "orders", "host": "h1", "user_id": "u1", "type": "buy", "status": "ok", "item": "sku-1",
				"item_name": "Espresso", "item_category": "drinks", "amount": 12.5, "currency": "EUR", "duration_ms": 3.0,
				"extra": map[string]any{"order_status": "placed", "n": 2.0}}},
		{"page view", EnrichedEvent{Event: AppEvent{EventID: "e2", ActionID: "a2", TS: ts, Service: "web", Type: TypePageView,
			Page: "/", Status: StatusFailed}},
			map[string]any{"v": 1.0, "event_id": "e2", "action_id": "a2", "ts": "2026-12-05T01:02:03.456Z", "service": "web",
				"type": "page_view", "status": "failed", "page": "/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.in.AppendJSON(nil)
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if string(gb) != string(wb) {
				t.Errorf("got  %s\nwant %s", gb, wb)
			}
			if again := tc.in.AppendJSON(nil); string(again) != string(b) {
				t.Errorf("two encodings differ:\n%s\n%s", b, again)
			}
		})
	}
}
