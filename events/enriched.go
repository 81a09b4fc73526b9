package events

// TopicAppEventsEnriched is the output topic of the enrich job (jobs/orders):
// every valid app.events record, keyed by its event_id, with its item's
// name and category from dims.items. It is not a source topic.
const TopicAppEventsEnriched = "app.events.enriched"

// EnrichedVersion is the version of the app.events.enriched message contract
// (the "v" field). A change that removes, renames or retypes a field is a new
// version; a new optional field is not.
const EnrichedVersion = 1

// EnrichedEvent is one app.events.enriched message: the event and what the
// dimensions say of its item (empty when the item is unknown to dims.items).
type EnrichedEvent struct {
	Event        AppEvent
	ItemName     string
	ItemCategory string
}

// AppendJSON appends the message in contract version 1 (one JSON object, no
// newline; documented in the README): "v", the event's fields under their
// app.events names, item_name and item_category after item, and the fields
// the event model does not know in an "extra" object (field → its JSON value)
// rather than beside the contract's own. Optional fields are omitted when
// empty or zero. The output depends only on the event and the dimension
// record, so a replayed event yields the same key and the same bytes.
func (e *EnrichedEvent) AppendJSON(dst []byte) []byte {
	ev := &e.Event
	o := newJSONObject(dst)
	o.int("v", EnrichedVersion)
	o.str("event_id", ev.EventID)
	o.str("action_id", ev.ActionID)
	o.strOmit("order_id", ev.OrderID)
	o.time("ts", ev.TS)
	o.str("service", ev.Service)
	o.strOmit("host", ev.Host)
	o.strOmit("user_id", ev.UserID)
	o.strOmit("session_id", ev.SessionID)
	o.str("type", ev.Type)
	o.str("status", ev.Status)
	o.strOmit("page", ev.Page)
	o.strOmit("item", ev.Item)
	o.strOmit("item_name", e.ItemName)
	o.strOmit("item_category", e.ItemCategory)
	o.strOmit("provider", ev.Provider)
	o.floatOmit("amount", ev.Amount)
	o.strOmit("currency", ev.Currency)
	o.intOmit("attempt", int64(ev.Attempt))
	o.floatOmit("duration_ms", ev.DurationMs)
	if len(ev.Extra) > 0 {
		o.key("extra")
		x := newJSONObject(o.buf)
		x.extra(ev.Extra)
		o.buf = x.close()
	}
	return o.close()
}
