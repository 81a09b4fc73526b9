package generate

import (
	"context"
	"io"
	"testing"
	"time"
)

// discard is a Sink that drops records: it measures the generator alone.
type discard struct{}

func (discard) Produce(context.Context, string, []byte, []byte) error { return nil }

// BenchmarkGenerate measures simulation, encoding, faults and the summary's
// parse of every record, without a sink: go test ./jobs/generate -run='^$' -bench=Generate
func BenchmarkGenerate(b *testing.B) {
	for _, sink := range []struct {
		name string
		s    func() Sink
	}{{"discard", func() Sink { return discard{} }}, {"file", func() Sink { return NewFileSink(io.Discard) }}} {
		b.Run(sink.name, func(b *testing.B) {
			var records, bytes int64
			for b.Loop() {
				cfg := Default(testStart)
				cfg.End = testStart.Add(10 * time.Minute)
				cfg.Rate = 500
				g, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := g.Run(context.Background(), sink.s(), nil); err != nil {
					b.Fatal(err)
				}
				n, by := g.Emitted()
				records += n
				bytes += by
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			b.SetBytes(bytes / int64(b.N))
		})
	}
}
