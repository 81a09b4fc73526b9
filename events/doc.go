// Package events is weir's event model: the Go types of every source topic in
// DESIGN §2, their parsers and encoders, and the Arrow schemas of their typed
// (silver) forms.
//
// Contract:
//   - Every Parse function accepts any byte slice, never panics, and returns
//     either a record that passed Validate or a *ParseError naming the field
//     and the reason; errors.Is(err, ErrSyntax|ErrMissing|ErrInvalid|ErrNotUTF8|
//     ErrEmpty) tells the class. Parsers are hand-written scanners (no regexp,
//     no encoding/json reflection) because silver parses every bronze row.
//   - Times are returned in UTC. JSON timestamps are RFC 3339 strings.
//   - Every AppendJSON / AppendLine encoder produces what the matching parser
//     reads back to an equal value; JSON output equals encoding/json's
//     (without HTML escaping) for the same struct.
//   - Unknown JSON keys are skipped (producers may add fields); duplicate keys:
//     the last one wins, as with encoding/json.
package events

import "time"

// Source topics (DESIGN §2). Dimension topics are compacted and keyed by the
// dimension id.
const (
	TopicWebAccess    = "web.access"
	TopicAppEvents    = "app.events"
	TopicAppLogs      = "app.logs"
	TopicMetrics      = "infra.metrics"
	TopicDimItems     = "dims.items"
	TopicDimProviders = "dims.providers"
)

// Topics lists every source topic in a fixed order.
var Topics = []string{TopicWebAccess, TopicAppEvents, TopicAppLogs, TopicMetrics, TopicDimItems, TopicDimProviders}

// App event types (AppEvent.Type).
const (
	TypePageView          = "page_view"
	TypeReserve           = "reserve"
	TypeCancelReservation = "cancel_reservation"
	TypeBuy               = "buy"
	TypeRefund            = "refund"
	TypePaymentAttempt    = "payment_attempt"
)

// EventTypes lists every valid AppEvent.Type.
var EventTypes = []string{TypePageView, TypeReserve, TypeCancelReservation, TypeBuy, TypeRefund, TypePaymentAttempt}

// Outcome of an operation (AppEvent.Status).
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Log levels (AppLog.Level).
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Levels lists every valid AppLog.Level, least severe first.
var Levels = []string{LevelDebug, LevelInfo, LevelWarn, LevelError}

// Payment provider kinds (DimProvider.Kind).
const (
	KindCard         = "card"
	KindWallet       = "wallet"
	KindBankTransfer = "bank_transfer"
)

// DefaultMaxFuture is how far an event time may lie after the moment weir
// received the record (silver: bronze ingested_at; the alert job: its wall
// clock) before the record counts as from the future: a producer with a
// wrong clock. Silver quarantines such records in silver.rejects (class
// "future") and the alert job counts them as late instead of evaluating
// them; both take this default for their max_future setting.
const DefaultMaxFuture = 5 * time.Minute

// Limits every parser enforces, so one hostile record cannot cost much.
const (
	// MaxRecordBytes is the largest payload a parser accepts.
	MaxRecordBytes = 64 << 10
	// MaxDurationMs bounds durations and request times (one day).
	MaxDurationMs = 86_400_000
	// MaxAttempt bounds AppEvent.Attempt.
	MaxAttempt = 1000
)
