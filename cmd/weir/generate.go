package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"weir/jobs/generate"
	"weir/kafkaio"
)

func newGenerateCmd(g *globals) *cobra.Command {
	var (
		seed                          uint64
		start, history, duration      string
		live, ensure                  bool
		rate                          float64
		users                         int
		metricEvery, anomalyEvery     time.Duration
		anomalies, faults             string
		output, summary, truth, bench string
		prefix                        string
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "simulate online-sales traffic (with anomalies and faults) into Kafka or a file",
		Long: `generate simulates an online-sales platform: user sessions with funnels,
several services per action, payment retries across providers, correlated logs,
host metrics and web access logs. It injects anomalies (ground truth in
--truth, one JSON line per anomaly: kind, labels, start, end, stats) and
producer faults (--faults), and writes a summary of what it produced
(--summary) with the answers a correct pipeline must give.

The same --seed and --start (and other flags) produce byte-identical output.
Without --start, history mode starts --history before now (truncated to the
minute) and live mode starts now.

--output FILE writes JSON lines {"topic","key","value"} (value_b64, base64,
instead of value when the payload is not UTF-8); "-" is stdout. Without
--output, records go to Kafka (acks=all, idempotent).

--bench-out FILE writes the measured throughput as JSON.`,
		Example: `  weir generate --history 40d --rate 5 --summary gen.json --truth truth.jsonl
  weir generate --live --rate 500 --anomaly-every 10m
  weir generate --seed 7 --start 2026-03-02T00:00:00Z --history 2h --output gen.jsonl`,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			now := time.Now()
			cfg := generate.Default(time.Time{})
			cfg.Seed, cfg.Live, cfg.Rate, cfg.Users = seed, live, rate, users
			cfg.MetricInterval, cfg.AnomalyEvery = metricEvery, anomalyEvery
			var err error
			if cfg.Faults, err = generate.ParseFaults(faults); err != nil {
				return err
			}
			if cfg.Anomalies, err = generate.ParseAnomalies(anomalies); err != nil {
				return err
			}
			if cfg.Start, cfg.End, err = generateSpan(now, start, history, duration, live); err != nil {
				return err
			}
			gen, err := generate.New(cfg)
			if err != nil {
				return err
			}

			var truthW io.Writer
			if truth != "" {
				f, err := os.Create(truth)
				if err != nil {
					return fmt.Errorf("create truth file: %w", err)
				}
				defer f.Close()
				truthW = f
			}

			var (
				sink     generate.Sink
				finish   func() error
				producer *kafkaio.Producer
			)
			switch output {
			case "":
				kcfg, err := g.load()
				if err != nil {
					return err
				}
				if ensure {
					specs := kafkaio.SourceTopics()
					for i := range specs {
						specs[i].Name = prefix + specs[i].Name
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
				if output != "-" {
					f, err := os.Create(output)
					if err != nil {
						return fmt.Errorf("create output: %w", err)
					}
					defer f.Close()
					w = f
				}
				fs := generate.NewFileSink(w)
				sink, finish = fs, fs.Flush
			}

			if prefix != "" {
				sink = generate.PrefixSink{Sink: sink, Prefix: prefix}
			}
			slog.Info("generate starting", "seed", cfg.Seed, "start", cfg.Start, "end", cfg.End, "live", cfg.Live, "rate", cfg.Rate, "sink", generateSinkName(output))
			began := time.Now()
			stop := generateProgress(gen, producer)
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
			if summary != "" {
				if err := writeJSONFile(summary, sum); err != nil {
					return err
				}
			}
			if bench != "" {
				res := generateBench{
					Benchmark: "generate", Sink: generateSinkName(output), Records: records, Bytes: bytes,
					Seconds: elapsed.Seconds(), RecordsPerSec: float64(records) / elapsed.Seconds(),
					MBPerSec: float64(bytes) / 1e6 / elapsed.Seconds(), Rate: cfg.Rate,
					SimulatedSeconds: sum.End.Sub(sum.Start).Seconds(), MeasuredAt: time.Now().UTC(),
					Machine: machineInfo(),
				}
				if producer != nil {
					st := producer.Stats()
					res.Delivered, res.Failed = st.Delivered, st.Failed
				}
				if err := writeJSONFile(bench, res); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f, def := cmd.Flags(), generate.Default(time.Time{})
	f.Uint64Var(&seed, "seed", def.Seed, "random seed; same seed and flags give byte-identical output")
	f.StringVar(&start, "start", "", "event time of the first record, RFC 3339 (default: now - history, or now when live)")
	f.StringVar(&history, "history", "1h", "simulated span in history mode (e.g. 40d, 36h)")
	f.BoolVar(&live, "live", false, "live mode: emit records as their event time comes (paced by --rate)")
	f.StringVar(&duration, "duration", "", "live mode: stop after this span (default: until SIGINT/SIGTERM)")
	f.Float64Var(&rate, "rate", def.Rate, "average records per second of event time (daily cycle around it)")
	f.IntVar(&users, "users", def.Users, "user population")
	f.DurationVar(&metricEvery, "metric-interval", def.MetricInterval, "host metrics period")
	f.DurationVar(&anomalyEvery, "anomaly-every", def.AnomalyEvery, "spacing of injected anomalies (kinds rotate)")
	f.StringVar(&anomalies, "anomalies", "all", "anomaly kinds: all, none, or a comma list of "+fmt.Sprint(generate.AnomalyKinds))
	f.StringVar(&faults, "faults", "default", "fault rates: default, none, or e.g. malformed=0.01,non_utf8=0.01,duplicate=0.02,out_of_order=0.01,future=0.005")
	f.StringVar(&output, "output", "", "write JSON lines to this file (- for stdout) instead of Kafka")
	f.StringVar(&summary, "summary", "", "write the run summary (counts, expected answers) as JSON here")
	f.StringVar(&truth, "truth", "", "write anomaly ground truth as JSON lines here")
	f.StringVar(&bench, "bench-out", "", "write throughput figures as JSON here (e.g. bench/results/generate.json)")
	f.StringVar(&prefix, "topic-prefix", "", "prepend this to every topic name (benchmarks, tests next to a running pipeline)")
	f.BoolVar(&ensure, "ensure-topics", true, "create the source topics if missing (Kafka output only)")
	return cmd
}

// generateSpan turns the time flags into [start, end); end is zero for an endless
// live run.
func generateSpan(now time.Time, start, history, duration string, live bool) (time.Time, time.Time, error) {
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
		d, err := generate.ParseSpan(duration)
		if err != nil {
			return s, s, fmt.Errorf("--duration: %w", err)
		}
		return s, s.Add(d), nil
	}
	h, err := generate.ParseSpan(history)
	if err != nil || h <= 0 {
		return s, s, fmt.Errorf("--history: want a positive span like 40d or 2h, got %q", history)
	}
	if s.IsZero() {
		s = now.Truncate(time.Minute).Add(-h)
	}
	return s, s.Add(h), nil
}

func generateSinkName(output string) string {
	if output == "" {
		return "kafka"
	}
	return "file"
}

// generateProgress logs the record rate every 5 s until the returned stop is called.
func generateProgress(gen *generate.Generator, p *kafkaio.Producer) (stop func()) {
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

type generateBench struct {
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

// machineInfo describes where a benchmark ran.
func machineInfo() map[string]any {
	host, _ := os.Hostname()
	m := map[string]any{"cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(), "host": host}
	// Shared machines: the load next to the figure says what it competed with.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["loadavg"] = strings.TrimSpace(string(b))
	}
	return m
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
