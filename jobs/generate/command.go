package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"weir/config"
	"weir/internal/benchreport"
	"weir/kafkaio"
)

// RunOptions are `weir generate`'s: the generator's Config (Start, End,
// Faults and Anomalies come from the text fields), where records go and
// the files written beside them.
type RunOptions struct {
	Config
	// Start is RFC 3339 (default: now - History, or now when Live);
	// History and Duration are ParseSpan spans.
	Start, History, Duration string
	// Anomalies and Faults are ParseAnomalies and ParseFaults text.
	Anomalies, Faults string
	// Output is a JSON-lines file ("-": stdout; "": Kafka).
	Output string
	// Summary, Truth and BenchOut are files for the run summary, the
	// anomaly ground truth and the throughput figures ("": none).
	Summary, Truth, BenchOut string
	// TopicPrefix is prepended to every topic.
	TopicPrefix string
	// EnsureTopics creates the source topics first (Kafka output only).
	EnsureTopics bool
}

// DefaultRunOptions returns the defaults the command's flags start from.
func DefaultRunOptions() RunOptions {
	return RunOptions{Config: Default(time.Time{}), History: "1h", Anomalies: "all", Faults: "default", EnsureTopics: true}
}

// Run generates what o asks for. load is called only for Kafka output.
func Run(ctx context.Context, o RunOptions, load func() (config.Config, error)) error {
	now := time.Now()
	cfg := o.Config
	var err error
	if cfg.Faults, err = ParseFaults(o.Faults); err != nil {
		return err
	}
	if cfg.Anomalies, err = ParseAnomalies(o.Anomalies); err != nil {
		return err
	}
	if cfg.Start, cfg.End, err = span(now, o.Start, o.History, o.Duration, cfg.Live); err != nil {
		return err
	}
	gen, err := New(cfg)
	if err != nil {
		return err
	}

	var truthW io.Writer
	if o.Truth != "" {
		f, err := os.Create(o.Truth)
		if err != nil {
			return fmt.Errorf("create truth file: %w", err)
		}
		defer f.Close()
		truthW = f
	}

	var (
		sink     Sink
		finish   func() error
		producer *kafkaio.Producer
	)
	switch o.Output {
	case "":
		kcfg, err := load()
		if err != nil {
			return err
		}
		if o.EnsureTopics {
			specs := kafkaio.SourceTopics()
			for i := range specs {
				specs[i].Name = o.TopicPrefix + specs[i].Name
			}
			if err := kafkaio.EnsureTopics(ctx, kcfg.Kafka, specs); err != nil {
				return err
			}
		}
		if producer, err = kafkaio.NewProducer(kcfg.Kafka, nil); err != nil {
			return err
		}
		defer producer.Close()
		sink = producer
		finish = func() error {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			return producer.Flush(fctx)
		}
	default:
		w := io.Writer(os.Stdout)
		if o.Output != "-" {
			f, err := os.Create(o.Output)
			if err != nil {
				return fmt.Errorf("create output: %w", err)
			}
			defer f.Close()
			w = f
		}
		fs := NewFileSink(w)
		sink, finish = fs, fs.Flush
	}

	if o.TopicPrefix != "" {
		sink = PrefixSink{Sink: sink, Prefix: o.TopicPrefix}
	}
	slog.Info("generate starting", "seed", cfg.Seed, "start", cfg.Start, "end", cfg.End, "live", cfg.Live, "rate", cfg.Rate, "sink", sinkName(o.Output))
	began := time.Now()
	stop := progress(gen, producer)
	sum, runErr := gen.Run(ctx, sink, truthW)
	stop()
	flushErr := finish()
	elapsed := time.Since(began)
	if err := errors.Join(runErr, flushErr); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	records, bytes := gen.Emitted()
	slog.Info("generate done", "records", records, "bytes", bytes, "seconds", elapsed.Seconds(),
		"records_per_sec", float64(records)/elapsed.Seconds(), "faults", sum.FaultCounts)
	if o.Summary != "" {
		if err := benchreport.WriteJSON(o.Summary, sum); err != nil {
			return err
		}
	}
	if o.BenchOut != "" {
		res := benchResult{
			Benchmark: "generate", Sink: sinkName(o.Output), Records: records, Bytes: bytes,
			Seconds: elapsed.Seconds(), RecordsPerSec: float64(records) / elapsed.Seconds(),
			MBPerSec: float64(bytes) / 1e6 / elapsed.Seconds(), Rate: cfg.Rate,
			SimulatedSeconds: sum.End.Sub(sum.Start).Seconds(), MeasuredAt: time.Now().UTC(),
			Machine: benchreport.ThisMachine(),
		}
		if producer != nil {
			st := producer.Stats()
			res.Delivered, res.Failed = st.Delivered, st.Failed
		}
		if err := benchreport.WriteJSON(o.BenchOut, res); err != nil {
			return err
		}
	}
	return nil
}

// span turns the time options into [start, end); end is zero for an endless
// live run.
func span(now time.Time, start, history, duration string, live bool) (time.Time, time.Time, error) {
	var s time.Time
	if start != "" {
		var err error
		if s, err = time.Parse(time.RFC3339, start); err != nil {
			return s, s, fmt.Errorf("--start: %w", err)
		}
	}
	if live {
		if s.IsZero() {
			s = now.Truncate(time.Second)
		}
		if duration == "" {
			return s, time.Time{}, nil
		}
		d, err := ParseSpan(duration)
		if err != nil {
			return s, s, fmt.Errorf("--duration: %w", err)
		}
		return s, s.Add(d), nil
	}
	h, err := ParseSpan(history)
	if err != nil || h <= 0 {
		return s, s, fmt.Errorf("--history: want a positive span like 40d or 2h, got %q", history)
	}
	if s.IsZero() {
		s = now.Truncate(time.Minute).Add(-h)
	}
	return s, s.Add(h), nil
}

func sinkName(output string) string {
	if output == "" {
		return "kafka"
	}
	return "file"
}

// progress logs the record rate every 5 s until the returned stop is called.
func progress(gen *Generator, p *kafkaio.Producer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n, _ := gen.Emitted()
				args := []any{"records", n, "rate", int64(float64(n-last) / now.Sub(lastAt).Seconds())}
				if p != nil {
					st := p.Stats()
					args = append(args, "delivered", st.Delivered, "failed", st.Failed)
				}
				slog.Info("generate progress", args...)
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(done); <-finished }
}

type benchResult struct {
	Benchmark        string    `json:"benchmark"`
	Sink             string    `json:"sink"`
	Records          int64     `json:"records"`
	Bytes            int64     `json:"bytes"`
	Seconds          float64   `json:"seconds"`
	RecordsPerSec    float64   `json:"records_per_sec"`
	MBPerSec         float64   `json:"mb_per_sec"`
	Delivered        int64     `json:"delivered,omitempty"`
	Failed           int64     `json:"failed,omitempty"`
	Rate             float64   `json:"rate_flag"`
	SimulatedSeconds float64   `json:"simulated_seconds"`
	MeasuredAt       time.Time `json:"measured_at"`
	Machine          any       `json:"machine"`
}

// ProduceOptions are `weir produce`'s: File (OpenFile's forms) replayed
// line by line into Topic (parsed as Format, default Topic), or, with
// Records, a weir generate --output file into each record's topic; topics
// get TopicPrefix.
type ProduceOptions struct {
	Topic, Format, File, TopicPrefix string
	Records                          bool
}

// Produce replays o.File into Kafka and prints its counts to w. load is
// called once the options are checked.
func Produce(ctx context.Context, o ProduceOptions, load func() (config.Config, error), w io.Writer) error {
	if o.File == "" || (o.Topic == "" && !o.Records) {
		return errors.New("produce: --file and --topic (or --records) are required")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	in, closeIn, err := OpenFile(o.File)
	if err != nil {
		return err
	}
	defer closeIn()
	p, err := kafkaio.NewProducer(cfg.Kafka, nil)
	if err != nil {
		return err
	}
	defer p.Close()

	began := time.Now()
	var (
		st     ReplayStats
		runErr error
	)
	sink := PrefixSink{Sink: p, Prefix: o.TopicPrefix}
	if o.Records {
		st.Produced, runErr = ReplayRecords(ctx, in, sink)
		st.Lines = st.Produced
	} else {
		st, runErr = Replay(ctx, in, o.Topic, o.Format, sink)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := errors.Join(runErr, p.Flush(fctx)); err != nil {
		return fmt.Errorf("produce %s: %w", o.File, err)
	}
	ps := p.Stats()
	slog.Info("produce done", "topic", o.Topic, "file", o.File, "lines", st.Lines, "produced", st.Produced,
		"delivered", ps.Delivered, "bad", st.Bad, "bad_by_class", st.BadBy, "cut", st.Cut,
		"seconds", time.Since(began).Seconds())
	fmt.Fprintf(w, "lines=%d produced=%d delivered=%d bad=%d cut=%d\n", st.Lines, st.Produced, ps.Delivered, st.Bad, st.Cut)
	return nil
}
