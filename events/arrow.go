package events

import (
	"maps"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Arrow schemas of the typed (silver) forms. Every schema names its event
// time event_ts (timestamp, microseconds, UTC) so silver partitions by
// day(event_ts) uniformly. Optional strings are null when empty. Silver may
// append its own columns (source coordinates, enrichment) after these; the
// Append*Row functions fill exactly the leading fields of a RecordBuilder
// whose schema starts with the matching *Fields.

var (
	tsType  = arrow.FixedWidthTypes.Timestamp_us
	strType = arrow.BinaryTypes.String
	f64Type = arrow.PrimitiveTypes.Float64
	i64Type = arrow.PrimitiveTypes.Int64
	i32Type = arrow.PrimitiveTypes.Int32
	// extraType is the ExtraField column: field name → JSON text.
	extraType = arrow.MapOf(strType, strType)
)

func req(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }
func opt(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

// AccessLogFields are the typed columns of web.access, including the derived
// status_class and is_static_file. request_time_ms is null when not logged;
// bytes is null when logged as "-" or cut; parse_issue says what was cut from
// a truncated line (null for a whole one); extra holds the variables of a
// declared format that no other column holds (AccessLog.Extra, as logged;
// null for the default format).
func AccessLogFields() []arrow.Field {
	return []arrow.Field{
		req("event_ts", tsType),
		req("client_ip", strType),
		opt("ident", strType),
		opt("user", strType),
		opt("method", strType),
		opt("path", strType),
		opt("protocol", strType),
		req("status", i32Type),
		req("status_class", strType),
		opt("bytes", i64Type),
		opt("referrer", strType),
		opt("user_agent", strType),
		opt("request_time_ms", f64Type),
		opt("cache_status", strType),
		req("is_static_file", arrow.FixedWidthTypes.Boolean),
		opt("parse_issue", strType),
		opt(ExtraField, extraType),
	}
}

// AppEventFields are the typed columns of app.events; amount and attempt are
// null when zero (events that carry none).
func AppEventFields() []arrow.Field {
	return []arrow.Field{
		req("event_id", strType),
		req("action_id", strType),
		req("event_ts", tsType),
		req("service", strType),
		opt("host", strType),
		opt("user_id", strType),
		opt("session_id", strType),
		req("type", strType),
		opt("page", strType),
		opt("item", strType),
		opt("provider", strType),
		opt("amount", f64Type),
		opt("currency", strType),
		req("status", strType),
		opt("attempt", i32Type),
		req("duration_ms", f64Type),
		opt("order_id", strType),
		opt(ExtraField, extraType),
	}
}

// AppLogFields are the typed columns of app.logs; line is null when zero.
func AppLogFields() []arrow.Field {
	return []arrow.Field{
		req("event_ts", tsType),
		req("level", strType),
		req("service", strType),
		opt("host", strType),
		opt("node", strType),
		opt("module", strType),
		opt("file", strType),
		opt("line", i32Type),
		req("message", strType),
		opt("action_id", strType),
		opt(ExtraField, extraType),
	}
}

// MetricFields are the typed columns of infra.metrics.
func MetricFields() []arrow.Field {
	return []arrow.Field{
		req("event_ts", tsType),
		req("host", strType),
		opt("service", strType),
		req("cpu_pct", f64Type),
		req("mem_bytes", i64Type),
		req("mem_pct", f64Type),
		req("load1", f64Type),
		req("disk_used_pct", f64Type),
		req("net_rx_bytes", i64Type),
		req("net_tx_bytes", i64Type),
		req("requests", i64Type),
		opt(ExtraField, extraType),
	}
}

// DimItemFields are the columns of dims.items.
func DimItemFields() []arrow.Field {
	return []arrow.Field{req("item", strType), opt("name", strType), req("category", strType), req("price", f64Type)}
}

// DimProviderFields are the columns of dims.providers.
func DimProviderFields() []arrow.Field {
	return []arrow.Field{req("provider", strType), req("name", strType), req("kind", strType)}
}

// Schemas made of exactly the fields above.
func AccessLogSchema() *arrow.Schema   { return arrow.NewSchema(AccessLogFields(), nil) }
func AppEventSchema() *arrow.Schema    { return arrow.NewSchema(AppEventFields(), nil) }
func AppLogSchema() *arrow.Schema      { return arrow.NewSchema(AppLogFields(), nil) }
func MetricSchema() *arrow.Schema      { return arrow.NewSchema(MetricFields(), nil) }
func DimItemSchema() *arrow.Schema     { return arrow.NewSchema(DimItemFields(), nil) }
func DimProviderSchema() *arrow.Schema { return arrow.NewSchema(DimProviderFields(), nil) }

// rowWriter appends to consecutive fields of a RecordBuilder.
type rowWriter struct {
	b *array.RecordBuilder
	i int
}

func (w *rowWriter) next() array.Builder { f := w.b.Field(w.i); w.i++; return f }

func (w *rowWriter) ts(t time.Time) {
	w.next().(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
}
func (w *rowWriter) str(s string) { w.next().(*array.StringBuilder).Append(s) }
func (w *rowWriter) optStr(s string) {
	b := w.next().(*array.StringBuilder)
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}
func (w *rowWriter) f64(f float64) { w.next().(*array.Float64Builder).Append(f) }
func (w *rowWriter) optF64(f float64, valid bool) {
	b := w.next().(*array.Float64Builder)
	if !valid {
		b.AppendNull()
		return
	}
	b.Append(f)
}
func (w *rowWriter) i64(v int64) { w.next().(*array.Int64Builder).Append(v) }
func (w *rowWriter) optI64(v int64, valid bool) {
	b := w.next().(*array.Int64Builder)
	if !valid {
		b.AppendNull()
		return
	}
	b.Append(v)
}

// extra appends x as a map in key order; null when empty.
func (w *rowWriter) extra(x Extra) {
	b := w.next().(*array.MapBuilder)
	if len(x) == 0 {
		b.AppendNull()
		return
	}
	b.Append(true)
	keys, items := b.KeyBuilder().(*array.StringBuilder), b.ItemBuilder().(*array.StringBuilder)
	for _, k := range slices.Sorted(maps.Keys(x)) {
		keys.Append(k)
		items.Append(x[k])
	}
}
func (w *rowWriter) i32(v int) { w.next().(*array.Int32Builder).Append(int32(v)) }
func (w *rowWriter) optI32(v int) {
	b := w.next().(*array.Int32Builder)
	if v == 0 {
		b.AppendNull()
		return
	}
	b.Append(int32(v))
}

// AppendAccessLogRow appends a to the leading AccessLogFields of b.
func AppendAccessLogRow(b *array.RecordBuilder, a *AccessLog) {
	w := rowWriter{b: b}
	w.ts(a.Time)
	w.str(a.ClientIP)
	w.optStr(a.Ident)
	w.optStr(a.User)
	w.optStr(a.Method)
	w.optStr(a.Path)
	w.optStr(a.Protocol)
	w.i32(a.Status)
	w.str(StatusClass(a.Status))
	w.optI64(a.Bytes, a.HasBytes())
	w.optStr(a.Referrer)
	w.optStr(a.UserAgent)
	w.optF64(a.RequestTimeMs, a.HasRequestTime())
	w.optStr(a.CacheStatus)
	w.next().(*array.BooleanBuilder).Append(IsStaticFile(a.Path))
	w.optStr(a.ParseIssue)
	w.extra(a.Extra)
}

// AppendAppEventRow appends e to the leading AppEventFields of b.
func AppendAppEventRow(b *array.RecordBuilder, e *AppEvent) {
	w := rowWriter{b: b}
	w.str(e.EventID)
	w.str(e.ActionID)
	w.ts(e.TS)
	w.str(e.Service)
	w.optStr(e.Host)
	w.optStr(e.UserID)
	w.optStr(e.SessionID)
	w.str(e.Type)
	w.optStr(e.Page)
	w.optStr(e.Item)
	w.optStr(e.Provider)
	w.optF64(e.Amount, e.Amount != 0)
	w.optStr(e.Currency)
	w.str(e.Status)
	w.optI32(e.Attempt)
	w.f64(e.DurationMs)
	w.optStr(e.OrderID)
	w.extra(e.Extra)
}

// AppendAppLogRow appends l to the leading AppLogFields of b.
func AppendAppLogRow(b *array.RecordBuilder, l *AppLog) {
	w := rowWriter{b: b}
	w.ts(l.TS)
	w.str(l.Level)
	w.str(l.Service)
	w.optStr(l.Host)
	w.optStr(l.Node)
	w.optStr(l.Module)
	w.optStr(l.File)
	w.optI32(l.Line)
	w.str(l.Message)
	w.optStr(l.ActionID)
	w.extra(l.Extra)
}

// AppendMetricRow appends m to the leading MetricFields of b.
func AppendMetricRow(b *array.RecordBuilder, m *Metric) {
	w := rowWriter{b: b}
	w.ts(m.TS)
	w.str(m.Host)
	w.optStr(m.Service)
	w.f64(m.CPUPct)
	w.i64(m.MemBytes)
	w.f64(m.MemPct)
	w.f64(m.Load1)
	w.f64(m.DiskUsedPct)
	w.i64(m.NetRxBytes)
	w.i64(m.NetTxBytes)
	w.i64(m.Requests)
	w.extra(m.Extra)
}

// AppendDimItemRow appends d to the leading DimItemFields of b.
func AppendDimItemRow(b *array.RecordBuilder, d *DimItem) {
	w := rowWriter{b: b}
	w.str(d.Item)
	w.optStr(d.Name)
	w.str(d.Category)
	w.f64(d.Price)
}

// AppendDimProviderRow appends d to the leading DimProviderFields of b.
func AppendDimProviderRow(b *array.RecordBuilder, d *DimProvider) {
	w := rowWriter{b: b}
	w.str(d.Provider)
	w.str(d.Name)
	w.str(d.Kind)
}
