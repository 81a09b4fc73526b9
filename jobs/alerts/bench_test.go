package alerts

import (
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
