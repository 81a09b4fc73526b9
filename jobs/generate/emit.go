package generate

import (
	"bytes"
	"context"
	"math"
	"time"
	"unicode/utf8"

	"weir/events"
)

// emitDims writes every dimension record first, so enrichment has them
// before any event. Dimension records get no faults.
func (g *Generator) emitDims(ctx context.Context, sink Sink) error {
	for _, p := range providers {
		if err := g.write(ctx, sink, events.TopicDimProviders, []byte(p.Provider), p.AppendJSON(nil), false); err != nil {
			return err
		}
	}
	for _, it := range g.w.items {
		if err := g.write(ctx, sink, events.TopicDimItems, []byte(it.Item), it.AppendJSON(nil), false); err != nil {
			return err
		}
	}
	return nil
}

func (g *Generator) write(ctx context.Context, sink Sink, topic string, key, value []byte, duplicate bool) error {
	if err := sink.Produce(ctx, topic, key, value); err != nil {
		return err
	}
	g.feed.record(topic, key, value, duplicate)
	g.emitted.Add(1)
	g.bytes.Add(int64(len(value)))
	return nil
}

func encode(dst []byte, p *pending) []byte {
	switch {
	case p.ev != nil:
		return p.ev.AppendJSON(dst)
	case p.lg != nil:
		return p.lg.AppendJSON(dst)
	case p.ac != nil:
		return p.ac.AppendLine(dst)
	default:
		return p.m.AppendJSON(dst)
	}
}

// emit writes one record from the timeline, applying at most one fault.
func (g *Generator) emit(ctx context.Context, sink Sink, p *pending) error {
	key := []byte(p.key)
	if p.raw != nil {
		return g.write(ctx, sink, p.topic, key, p.raw, p.duplicate)
	}
	if h := p.host; h != nil {
		h.requests++
		if p.ac != nil && p.ac.HasBytes() {
			h.bytes += p.ac.Bytes
		}
	}
	g.buf = encode(g.buf[:0], p)
	value := g.buf
	if p.exempt {
		return g.write(ctx, sink, p.topic, key, value, false)
	}
	f := g.cfg.Faults
	x := g.fr.Float64()
	switch {
	case x < f.Malformed:
		value = g.malform(p.topic, value)
		g.tally.fault(p.topic, FaultMalformed)
	case x < f.Malformed+f.NonUTF8:
		value = g.breakUTF8(value)
		g.tally.fault(p.topic, FaultNonUTF8)
	case x < f.Malformed+f.NonUTF8+f.Duplicate:
		g.tally.fault(p.topic, FaultDuplicate)
		later := time.Duration(g.fr.Float64() * float64(30*time.Second))
		g.push(&pending{at: p.at.Add(later), ts: p.ts, topic: p.topic, key: p.key, raw: bytes.Clone(value), duplicate: true})
	case x < f.Malformed+f.NonUTF8+f.Duplicate+f.OutOfOrder && g.bounded && g.end.Sub(p.ts) < time.Minute:
		// Delayed past the end of a bounded run, a record of its last
		// seconds would go out among its neighbours: not out of order at
		// all. It goes out clean.
	case x < f.Malformed+f.NonUTF8+f.Duplicate+f.OutOfOrder:
		g.tally.fault(p.topic, FaultOutOfOrder)
		late := time.Hour + time.Duration(g.fr.Float64()*float64(5*time.Hour))
		g.push(&pending{at: p.at.Add(late), ts: p.ts, topic: p.topic, key: p.key, raw: bytes.Clone(value)})
		return nil
	case x < f.Malformed+f.NonUTF8+f.Duplicate+f.OutOfOrder+f.Future:
		g.tally.fault(p.topic, FaultFuture)
		ahead := 24*time.Hour + time.Duration(g.fr.Float64()*float64(29*24*time.Hour))
		base := p.ts
		if g.bounded {
			base = g.end
		}
		future := base.Add(ahead).Truncate(time.Millisecond)
		switch {
		case p.ev != nil:
			p.ev.TS = future
		case p.lg != nil:
			p.lg.TS = future
		case p.ac != nil:
			p.ac.Time = future.Truncate(time.Second)
		default:
			p.m.TS = future
		}
		value = encode(g.buf[:0], p)
		g.buf = value
	}
	return g.write(ctx, sink, p.topic, key, value, false)
}

// malform damages a payload so that its topic's parser rejects it.
func (g *Generator) malform(topic string, v []byte) []byte {
	var out []byte
	switch g.fr.IntN(3) {
	case 0: // truncated in flight
		cut := 1 + g.fr.IntN(max(1, len(v)*6/10))
		out = bytes.Clone(v[:cut])
	case 1: // an upstream error page instead of the record
		out = []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")
	default: // a field of the wrong shape
		if topic == events.TopicWebAccess {
			out = bytes.Replace(v, []byte("] \""), []byte("] "), 1) // request loses its opening quote
		} else {
			out = bytes.Replace(v, []byte(`"ts":"`), []byte(`"ts":"yesterday",`+`"x":"`), 1)
		}
	}
	if parseAs(topic, out) == nil {
		out = []byte("{\"truncated")
	}
	return out
}

var badSequences = [][]byte{{0xff}, {0xc3, 0x28}, {0xe2, 0x82}, {0xfe, 0xfe}, {0xed, 0xa0, 0x80}}

// breakUTF8 inserts an invalid byte sequence, as a producer with a broken
// encoder (Latin-1 bytes in a UTF-8 stream) would.
func (g *Generator) breakUTF8(v []byte) []byte {
	at := g.fr.IntN(len(v) + 1)
	seq := badSequences[g.fr.IntN(len(badSequences))]
	out := make([]byte, 0, len(v)+len(seq))
	out = append(append(append(out, v[:at]...), seq...), v[at:]...)
	if utf8.Valid(out) {
		out = append(out, 0xff)
	}
	return out
}

// tick emits one metric sample per host for the interval ending at t. CPU
// follows the requests the host handled relative to its average (about 45%
// at average load), memory and load average follow CPU.
func (g *Generator) tick(t time.Time) {
	secs := g.cfg.MetricInterval.Seconds()
	day := float64(t.Unix()%86400) / 86400
	for _, h := range g.w.hosts {
		load := 0.0
		if exp := g.expectReq[h.service] * secs; exp > 0 {
			load = float64(h.requests) / exp
		}
		cpu := clamp(4+42*load+1.2*g.tr.NormFloat64(), 0.5, 99.5)
		memPct := clamp(100*(h.memBase+0.15*math.Min(load, 2)+0.02*math.Sin(2*math.Pi*day))+0.5*g.tr.NormFloat64(), 1, 99)
		h.diskUsed = math.Min(h.diskUsed+0.0002*secs/60, 95)
		m := &events.Metric{
			TS: t, Host: h.name, Service: h.service,
			CPUPct:      round2(cpu),
			MemBytes:    int64(memPct / 100 * h.memGB * (1 << 30)),
			MemPct:      round2(memPct),
			Load1:       round2(math.Max(0, h.cores*cpu/100*1.1+0.05*g.tr.NormFloat64())),
			DiskUsedPct: round2(h.diskUsed),
			NetRxBytes:  h.requests*900 + g.tr.Int64N(4096),
			NetTxBytes:  h.bytes + h.requests*300 + g.tr.Int64N(4096),
			Requests:    h.requests,
		}
		g.push(&pending{ts: t, topic: events.TopicMetrics, key: h.name, m: m})
		if g.tr.Float64() < heartbeatLogP {
			g.logLine(t, h, events.LevelInfo, h.service+".health", "", 0, "health check ok", "")
		}
		h.requests, h.bytes = 0, 0
	}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
