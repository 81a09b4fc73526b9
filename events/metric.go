package events

import "time"

// Metric is one host sample on infra.metrics for the service running there.
// CPUPct and MemPct are percentages of the host's capacity (0-100); the
// counters are deltas over the sampling interval.
type Metric struct {
	TS          time.Time `json:"ts"`
	Host        string    `json:"host"`
	Service     string    `json:"service"`
	CPUPct      float64   `json:"cpu_pct"`
	MemBytes    int64     `json:"mem_bytes"`
	MemPct      float64   `json:"mem_pct"`
	Load1       float64   `json:"load1"`
	DiskUsedPct float64   `json:"disk_used_pct"`
	NetRxBytes  int64     `json:"net_rx_bytes"`
	NetTxBytes  int64     `json:"net_tx_bytes"`
	Requests    int64     `json:"requests"`
	// Extra keeps the fields this model does not know (silver column extra).
	Extra Extra `json:"-"`
}

// ParseMetric reads one infra.metrics payload and validates it.
func ParseMetric(b []byte) (Metric, error) {
	var m Metric
	if err := checkPayload(b); err != nil {
		return m, err
	}
	p := jsonScanner{s: string(b)}
	if err := p.begin(); err != nil {
		return m, err
	}
	for {
		key, ok, err := p.nextKey()
		if err != nil {
			return Metric{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "ts":
			m.TS, err = p.time(key)
		case "host":
			m.Host, err = p.str(key)
		case "service":
			m.Service, err = p.str(key)
		case "cpu_pct":
			m.CPUPct, err = p.float(key)
		case "mem_bytes":
			m.MemBytes, err = p.int(key)
		case "mem_pct":
			m.MemPct, err = p.float(key)
		case "load1":
			m.Load1, err = p.float(key)
		case "disk_used_pct":
			m.DiskUsedPct, err = p.float(key)
		case "net_rx_bytes":
			m.NetRxBytes, err = p.int(key)
		case "net_tx_bytes":
			m.NetTxBytes, err = p.int(key)
		case "requests":
			m.Requests, err = p.int(key)
		default:
			err = p.extra(&m.Extra, key)
		}
		if err != nil {
			return Metric{}, err
		}
	}
	if err := p.end(); err != nil {
		return Metric{}, err
	}
	if err := m.Validate(); err != nil {
		return Metric{}, err
	}
	return m, nil
}

func pct(f float64) bool { return finite(f) && f >= 0 && f <= 100 }

// Validate checks required fields and ranges.
func (m *Metric) Validate() error {
	switch {
	case m.TS.IsZero():
		return missingErr("ts")
	case m.Host == "":
		return missingErr("host")
	case !pct(m.CPUPct):
		return invalidErr("cpu_pct", "out of range 0-100")
	case m.MemBytes < 0:
		return invalidErr("mem_bytes", "negative")
	case !pct(m.MemPct):
		return invalidErr("mem_pct", "out of range 0-100")
	case !finite(m.Load1) || m.Load1 < 0:
		return invalidErr("load1", "negative")
	case !pct(m.DiskUsedPct):
		return invalidErr("disk_used_pct", "out of range 0-100")
	case m.NetRxBytes < 0:
		return invalidErr("net_rx_bytes", "negative")
	case m.NetTxBytes < 0:
		return invalidErr("net_tx_bytes", "negative")
	case m.Requests < 0:
		return invalidErr("requests", "negative")
	}
	return nil
}

// AppendJSON appends the sample as one JSON object (no newline).
func (m *Metric) AppendJSON(dst []byte) []byte {
	o := newJSONObject(dst)
	o.time("ts", m.TS)
	o.str("host", m.Host)
	o.str("service", m.Service)
	o.float("cpu_pct", m.CPUPct)
	o.int("mem_bytes", m.MemBytes)
	o.float("mem_pct", m.MemPct)
	o.float("load1", m.Load1)
	o.float("disk_used_pct", m.DiskUsedPct)
	o.int("net_rx_bytes", m.NetRxBytes)
	o.int("net_tx_bytes", m.NetTxBytes)
	o.int("requests", m.Requests)
	o.extra(m.Extra)
	return o.close()
}
