package events

import "time"

// AppEvent is one business event on app.events. Several services emit events
// with the same ActionID for one user operation (a buy touches cart, orders,
// payments); EventID is unique per event and is the dedup key.
type AppEvent struct {
	EventID    string    `json:"event_id"`
	ActionID   string    `json:"action_id"`
	TS         time.Time `json:"ts"`
	Service    string    `json:"service"`
	Host       string    `json:"host"`
	UserID     string    `json:"user_id,omitempty"`
	SessionID  string    `json:"session_id,omitempty"`
	Type       string    `json:"type"`
	Page       string    `json:"page,omitempty"`
	Item       string    `json:"item,omitempty"`
	Provider   string    `json:"provider,omitempty"`
	Amount     float64   `json:"amount,omitempty"`
	Currency   string    `json:"currency,omitempty"`
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt,omitempty"`
	DurationMs float64   `json:"duration_ms,omitempty"`
	// OrderID names the order a buy places and a refund returns: the buy's
	// action_id, on the buy and on every refund of it. A refund is its own
	// action, so this is what ties it to the purchase.
	OrderID string `json:"order_id,omitempty"`
	// Extra keeps the fields this model does not know (silver column extra).
	Extra Extra `json:"-"`
}

// ParseAppEvent reads one app.events payload and validates it.
func ParseAppEvent(b []byte) (AppEvent, error) {
	var e AppEvent
	if err := checkPayload(b); err != nil {
		return e, err
	}
	p := jsonScanner{s: string(b)}
	if err := p.begin(); err != nil {
		return e, err
	}
	for {
		key, ok, err := p.nextKey()
		if err != nil {
			return AppEvent{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "event_id":
			e.EventID, err = p.str(key)
		case "action_id":
			e.ActionID, err = p.str(key)
		case "ts":
			e.TS, err = p.time(key)
		case "service":
			e.Service, err = p.str(key)
		case "host":
			e.Host, err = p.str(key)
		case "user_id":
			e.UserID, err = p.str(key)
		case "session_id":
			e.SessionID, err = p.str(key)
		case "type":
			e.Type, err = p.str(key)
		case "page":
			e.Page, err = p.str(key)
		case "item":
			e.Item, err = p.str(key)
		case "provider":
			e.Provider, err = p.str(key)
		case "amount":
			e.Amount, err = p.float(key)
		case "currency":
			e.Currency, err = p.str(key)
		case "status":
			e.Status, err = p.str(key)
		case "attempt":
			var v int64
			v, err = p.int(key)
			if err == nil && (v < 0 || v > MaxAttempt) {
				err = invalidErr(key, "out of range 0-1000")
			}
			e.Attempt = int(v)
		case "duration_ms":
			e.DurationMs, err = p.float(key)
		case "order_id":
			e.OrderID, err = p.str(key)
		default:
			err = p.extra(&e.Extra, key)
		}
		if err != nil {
			return AppEvent{}, err
		}
	}
	if err := p.end(); err != nil {
		return AppEvent{}, err
	}
	if err := e.Validate(); err != nil {
		return AppEvent{}, err
	}
	return e, nil
}

// Validate checks required fields and ranges; the first problem wins.
func (e *AppEvent) Validate() error {
	switch {
	case e.EventID == "":
		return missingErr("event_id")
	case e.ActionID == "":
		return missingErr("action_id")
	case e.TS.IsZero():
		return missingErr("ts")
	case e.Service == "":
		return missingErr("service")
	case e.Type == "":
		return missingErr("type")
	case !oneOf(e.Type, EventTypes):
		return invalidErr("type", "unknown event type")
	case e.Status == "":
		return missingErr("status")
	case e.Status != StatusOK && e.Status != StatusFailed:
		return invalidErr("status", "want ok or failed")
	case !finite(e.Amount) || e.Amount < 0 || e.Amount > 1e9:
		return invalidErr("amount", "out of range 0-1e9")
	case !finite(e.DurationMs) || e.DurationMs < 0 || e.DurationMs > MaxDurationMs:
		return invalidErr("duration_ms", "out of range 0-86400000")
	case e.Attempt < 0 || e.Attempt > MaxAttempt:
		return invalidErr("attempt", "out of range 0-1000")
	case e.Currency != "" && !currencyCode(e.Currency):
		return invalidErr("currency", "want ISO 4217 code")
	}
	switch e.Type {
	case TypeReserve, TypeCancelReservation, TypeBuy, TypeRefund:
		if e.Item == "" {
			return missingErr("item")
		}
	case TypePaymentAttempt:
		if e.Provider == "" {
			return missingErr("provider")
		}
		if e.Attempt < 1 {
			return invalidErr("attempt", "payment attempts count from 1")
		}
	}
	return nil
}

func currencyCode(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}

// AppendJSON appends the event as one JSON object (no newline).
func (e *AppEvent) AppendJSON(dst []byte) []byte {
	o := newJSONObject(dst)
	o.str("event_id", e.EventID)
	o.str("action_id", e.ActionID)
	o.time("ts", e.TS)
	o.str("service", e.Service)
	o.str("host", e.Host)
	o.strOmit("user_id", e.UserID)
	o.strOmit("session_id", e.SessionID)
	o.str("type", e.Type)
	o.strOmit("page", e.Page)
	o.strOmit("item", e.Item)
	o.strOmit("provider", e.Provider)
	o.floatOmit("amount", e.Amount)
	o.strOmit("currency", e.Currency)
	o.str("status", e.Status)
	o.intOmit("attempt", int64(e.Attempt))
	o.floatOmit("duration_ms", e.DurationMs)
	o.strOmit("order_id", e.OrderID)
	o.extra(e.Extra)
	return o.close()
}
