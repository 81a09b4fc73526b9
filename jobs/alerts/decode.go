package alerts

import (
	"strconv"
	"strings"
	"time"

	"weir/config"
	"weir/events"
	"weir/jobs/alerts/rules"
)

// Decode parses one source payload into the fields rules read and its event
// time, access-log lines in the default format. Topics without a decoder are
// not alert sources.
func Decode(topic string, value []byte) (rules.Fields, time.Time, error) {
	return Decoder{}.Decode(topic, value)
}

// Decoder parses source payloads the way the silver job does: web.access
// lines in the format declared for their topic (config access_log_formats),
// so that both jobs read the same fields from the same line.
type Decoder struct {
	// Access are the declared access-log formats by Kafka topic.
	Access events.AccessFormats
	// Prefix is the prefix of the topics read (a staging or test copy):
	// formats are looked up by the whole Kafka topic, as silver does.
	Prefix string
}

// NewDecoder is the decoder of a configuration's declared formats.
func NewDecoder(cfg config.Config, prefix string) (Decoder, error) {
	formats, err := cfg.AccessFormats()
	if err != nil {
		return Decoder{}, err
	}
	return Decoder{Access: formats, Prefix: prefix}, nil
}

// Decode parses one payload of topic (without the prefix).
func (d Decoder) Decode(topic string, value []byte) (rules.Fields, time.Time, error) {
	switch topic {
	case events.TopicAppEvents:
		ev, err := events.ParseAppEvent(value)
		if err != nil {
			return nil, time.Time{}, err
		}
		return &appEventFields{ev}, ev.TS, nil
	case events.TopicAppLogs:
		l, err := events.ParseAppLog(value)
		if err != nil {
			return nil, time.Time{}, err
		}
		return &appLogFields{l}, l.TS, nil
	case events.TopicWebAccess:
		a, err := d.Access.For(d.Prefix + topic)(value)
		if err != nil {
			return nil, time.Time{}, err
		}
		return &accessFields{a}, a.Time, nil
	case events.TopicMetrics:
		m, err := events.ParseMetric(value)
		if err != nil {
			return nil, time.Time{}, err
		}
		return &metricFields{m}, m.TS, nil
	case events.TopicDimItems:
		d, err := events.ParseDimItem(value)
		if err != nil {
			return nil, time.Time{}, err
		}
		return rules.Map{"item": d.Item, "name": d.Name, "category": d.Category, "price": strconv.FormatFloat(d.Price, 'f', -1, 64)}, time.Time{}, nil
	case events.TopicDimProviders:
		d, err := events.ParseDimProvider(value)
		if err != nil {
			return nil, time.Time{}, err
		}
		return rules.Map{"provider": d.Provider, "name": d.Name, "kind": d.Kind}, time.Time{}, nil
	}
	return nil, time.Time{}, errUnknownTopic{topic}
}

type errUnknownTopic struct{ topic string }

func (e errUnknownTopic) Error() string { return "no decoder for topic " + strconv.Quote(e.topic) }

// KnownTopic reports whether Decode reads topic.
func KnownTopic(topic string) bool {
	_, _, err := Decode(topic, nil)
	_, unknown := err.(errUnknownTopic)
	return !unknown
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func parseNum(s string, ok bool) (float64, bool) {
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// appEventFields exposes an app.events record by its JSON field names.
type appEventFields struct{ e events.AppEvent }

func (f *appEventFields) Str(name string) (string, bool) {
	e := &f.e
	switch name {
	case "event_id":
		return e.EventID, true
	case "action_id":
		return e.ActionID, true
	case "service":
		return e.Service, true
	case "host":
		return e.Host, true
	case "user_id":
		return e.UserID, e.UserID != ""
	case "session_id":
		return e.SessionID, e.SessionID != ""
	case "type":
		return e.Type, true
	case "page":
		return e.Page, e.Page != ""
	case "item":
		return e.Item, e.Item != ""
	case "provider":
		return e.Provider, e.Provider != ""
	case "currency":
		return e.Currency, e.Currency != ""
	case "order_id":
		return e.OrderID, e.OrderID != ""
	case "status":
		return e.Status, true
	case "amount", "attempt", "duration_ms":
		v, ok := f.Num(name)
		return fnum(v), ok
	}
	return "", false
}

func (f *appEventFields) Num(name string) (float64, bool) {
	e := &f.e
	switch name {
	case "amount":
		return e.Amount, true
	case "attempt":
		return float64(e.Attempt), true
	case "duration_ms":
		return e.DurationMs, true
	}
	return parseNum(f.Str(name))
}

// appLogFields exposes an app.logs record.
type appLogFields struct{ l events.AppLog }

func (f *appLogFields) Str(name string) (string, bool) {
	l := &f.l
	switch name {
	case "level":
		return l.Level, true
	case "service":
		return l.Service, true
	case "host":
		return l.Host, true
	case "node":
		return l.Node, l.Node != ""
	case "module":
		return l.Module, l.Module != ""
	case "file":
		return l.File, l.File != ""
	case "line":
		return strconv.Itoa(l.Line), l.Line != 0
	case "message":
		return l.Message, true
	case "action_id":
		return l.ActionID, l.ActionID != ""
	}
	return "", false
}

func (f *appLogFields) Num(name string) (float64, bool) {
	if name == "line" {
		return float64(f.l.Line), f.l.Line != 0
	}
	return parseNum(f.Str(name))
}

// accessFields exposes a web.access line; besides its own fields it offers
// status_class (2xx…5xx) and route, the first path segment after /api/ (or
// the first segment). service is the same value under its older name: the
// edge knows the route, not which backend behind it answered.
type accessFields struct{ a events.AccessLog }

func (f *accessFields) Str(name string) (string, bool) {
	a := &f.a
	switch name {
	case "client_ip":
		return a.ClientIP, true
	case "method":
		return a.Method, true
	case "path":
		return a.Path, true
	case "protocol":
		return a.Protocol, true
	case "status":
		return strconv.Itoa(a.Status), true
	case "status_class":
		return events.StatusClass(a.Status), true
	case "referrer":
		return a.Referrer, a.Referrer != ""
	case "user_agent":
		return a.UserAgent, a.UserAgent != ""
	case "cache_status":
		return a.CacheStatus, a.CacheStatus != ""
	case "route", "service":
		return pathService(a.Path), true
	case "bytes", "request_time_ms":
		v, ok := f.Num(name)
		return fnum(v), ok
	}
	// The variables of a declared format without a field of their own
	// (host, upstream_response_time, ...), as logged; "-" is absent.
	if v, ok := a.Extra[name]; ok {
		return v, v != "-"
	}
	return "", false
}

func (f *accessFields) Num(name string) (float64, bool) {
	a := &f.a
	switch name {
	case "status":
		return float64(a.Status), true
	case "bytes":
		return float64(a.Bytes), true
	case "request_time_ms":
		return a.RequestTimeMs, a.HasRequestTime()
	}
	return parseNum(f.Str(name))
}

func pathService(p string) string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimPrefix(p, "api/")
	if i := strings.IndexAny(p, "/?#"); i >= 0 {
		p = p[:i]
	}
	return p
}

// metricFields exposes an infra.metrics sample.
type metricFields struct{ m events.Metric }

func (f *metricFields) Str(name string) (string, bool) {
	switch name {
	case "host":
		return f.m.Host, true
	case "service":
		return f.m.Service, true
	}
	v, ok := f.Num(name)
	return fnum(v), ok
}

func (f *metricFields) Num(name string) (float64, bool) {
	m := &f.m
	switch name {
	case "cpu_pct":
		return m.CPUPct, true
	case "mem_bytes":
		return float64(m.MemBytes), true
	case "mem_pct":
		return m.MemPct, true
	case "load1":
		return m.Load1, true
	case "disk_used_pct":
		return m.DiskUsedPct, true
	case "net_rx_bytes":
		return float64(m.NetRxBytes), true
	case "net_tx_bytes":
		return float64(m.NetTxBytes), true
	case "requests":
		return float64(m.Requests), true
	}
	return 0, false
}
