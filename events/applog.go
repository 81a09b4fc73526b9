package events

import "time"

// AppLog is one application log line on app.logs. Error lines carry the
// source location (File, Line, Module); ActionID ties a line to the events of
// the operation it was logged for.
type AppLog struct {
	TS       time.Time `json:"ts"`
	Level    string    `json:"level"`
	Service  string    `json:"service"`
	Host     string    `json:"host"`
	Node     string    `json:"node,omitempty"`
	Module   string    `json:"module,omitempty"`
	File     string    `json:"file,omitempty"`
	Line     int       `json:"line,omitempty"`
	Message  string    `json:"message"`
	ActionID string    `json:"action_id,omitempty"`
	// Extra keeps the fields this model does not know (silver column extra).
	Extra Extra `json:"-"`
}

// ParseAppLog reads one app.logs payload and validates it.
func ParseAppLog(b []byte) (AppLog, error) {
	var l AppLog
	if err := checkPayload(b); err != nil {
		return l, err
	}
	p := jsonScanner{s: string(b)}
	if err := p.begin(); err != nil {
		return l, err
	}
	for {
		key, ok, err := p.nextKey()
		if err != nil {
			return AppLog{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "ts":
			l.TS, err = p.time(key)
		case "level":
			l.Level, err = p.str(key)
		case "service":
			l.Service, err = p.str(key)
		case "host":
			l.Host, err = p.str(key)
		case "node":
			l.Node, err = p.str(key)
		case "module":
			l.Module, err = p.str(key)
		case "file":
			l.File, err = p.str(key)
		case "line":
			var v int64
			v, err = p.int(key)
			if err == nil && (v < 0 || v > 1<<31-1) {
				err = invalidErr(key, "out of range")
			}
			l.Line = int(v)
		case "message":
			l.Message, err = p.str(key)
		case "action_id":
			l.ActionID, err = p.str(key)
		default:
			err = p.extra(&l.Extra, key)
		}
		if err != nil {
			return AppLog{}, err
		}
	}
	if err := p.end(); err != nil {
		return AppLog{}, err
	}
	if err := l.Validate(); err != nil {
		return AppLog{}, err
	}
	return l, nil
}

// Validate checks required fields and ranges.
func (l *AppLog) Validate() error {
	switch {
	case l.TS.IsZero():
		return missingErr("ts")
	case l.Level == "":
		return missingErr("level")
	case !oneOf(l.Level, Levels):
		return invalidErr("level", "want debug, info, warn or error")
	case l.Service == "":
		return missingErr("service")
	case l.Message == "":
		return missingErr("message")
	case l.Line < 0:
		return invalidErr("line", "negative")
	}
	return nil
}

// AppendJSON appends the log line as one JSON object (no newline).
func (l *AppLog) AppendJSON(dst []byte) []byte {
	o := newJSONObject(dst)
	o.time("ts", l.TS)
	o.str("level", l.Level)
	o.str("service", l.Service)
	o.str("host", l.Host)
	o.strOmit("node", l.Node)
	o.strOmit("module", l.Module)
	o.strOmit("file", l.File)
	o.intOmit("line", int64(l.Line))
	o.str("message", l.Message)
	o.strOmit("action_id", l.ActionID)
	o.extra(l.Extra)
	return o.close()
}
