package alerts

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"

	"weir/jobs/alerts/rules"
)

// benchInput is the scenario decoded once, so the benchmark measures rule
// evaluation (filters, grouping, panes, window closing, sequences).
type benchInput struct {
	file *rules.File
	recs []Record
	raw  []scenarioMsg
	end  time.Time
}

func loadBenchInput(tb testing.TB) *benchInput {
	tb.Helper()
	raw, err := os.ReadFile("../../rules/alerts.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := rules.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	sc := buildScenario(2, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 36*time.Minute, 40)
	in := &benchInput{file: f, raw: sc.msgs, end: sc.end}
	for i, m := range sc.msgs {
		fl, ts, err := Decode(m.topic, m.value)
		if err != nil {
			tb.Fatal(err)
		}
		in.recs = append(in.recs, Record{Topic: m.topic, Partition: int32(i % 3), Offset: int64(i), TS: ts.UnixMilli(), Fields: fl})
	}
	return in
}

// evaluate runs every record through a fresh engine, advancing every
// batch records as the job does once per micro-batch.
func (in *benchInput) evaluate(decode bool) int {
	clk := &clock{t: in.end.Add(time.Hour)}
	e := NewEngine(in.file, clk.now)
	for _, d := range dimItems() {
		fl, _, _ := Decode(d.topic, d.value)
		e.Dimension(d.topic, fl)
	}
	n := 0
	for i := range in.recs {
		r := in.recs[i]
		if decode {
			m := in.raw[i]
			fl, ts, err := Decode(m.topic, m.value)
			if err != nil {
				continue
			}
			r.Fields, r.TS = fl, ts.UnixMilli()
		}
		e.Process(r)
		if i%20_000 == 0 {
			e.Advance()
			ns, _ := e.Drain()
			n += len(ns)
		}
	}
	e.Advance()
	ns, _ := e.Drain()
	return n + len(ns)
}

// BenchmarkEvaluate: events/s evaluated with all shipped rules on.
func BenchmarkEvaluate(b *testing.B) {
	in := loadBenchInput(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.evaluate(false)
	}
	b.ReportMetric(float64(len(in.recs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEvaluate adds payload parsing, as the job does per record.
func BenchmarkDecodeEvaluate(b *testing.B) {
	in := loadBenchInput(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.evaluate(true)
	}
	b.ReportMetric(float64(len(in.recs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCheckpoint: what a checkpoint writes per one-second batch over
// the last minute of the scenario with the shipped rules (the state built
// up before), against the whole state every checkpoint wrote before parts:
// written_B/batch vs state_B, and the time to encode the parts.
func BenchmarkCheckpoint(b *testing.B) {
	in := loadBenchInput(b)
	last := in.recs[len(in.recs)-1].TS/1000 - 60
	for b.Loop() {
		clk := &clock{t: in.end.Add(time.Hour)}
		e := NewEngine(in.file, clk.now)
		written := map[string][sha256.Size]byte{}
		var batches, wrote, state int
		var encoding time.Duration
		flush := func(sec int64) {
			e.Advance()
			e.Drain()
			if sec < last {
				return
			}
			start := time.Now()
			parts, err := e.Parts()
			if err != nil {
				b.Fatal(err)
			}
			d, size := changedParts(parts, written)
			encoding += time.Since(start)
			for k := range d.Put {
				written[k] = sha256.Sum256(parts[k])
			}
			for _, k := range d.Delete {
				delete(written, k)
			}
			if sec > last { // the first checkpoint writes everything
				batches++
				wrote += d.Bytes()
			}
			state = size
		}
		sec := in.recs[0].TS / 1000
		for _, r := range in.recs {
			if r.TS/1000 != sec {
				flush(sec)
				sec = r.TS / 1000
			}
			e.Process(r)
		}
		flush(sec)
		b.ReportMetric(float64(state), "state_B")
		b.ReportMetric(float64(wrote)/float64(batches), "written_B/batch")
		b.ReportMetric(float64(encoding.Milliseconds())/float64(batches+1), "encode_ms/batch")
	}
}
