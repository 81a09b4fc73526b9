package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"weir/jobs/generate"
)

func newGenerateCmd(g *globals) *cobra.Command {
	o := generate.DefaultRunOptions()
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
			return generate.Run(c.Context(), o, g.load)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&o.Seed, "seed", o.Seed, "random seed; same seed and flags give byte-identical output")
	f.StringVar(&o.Start, "start", "", "event time of the first record, RFC 3339 (default: now - history, or now when live)")
	f.StringVar(&o.History, "history", o.History, "simulated span in history mode (e.g. 40d, 36h)")
	f.BoolVar(&o.Live, "live", false, "live mode: emit records as their event time comes (paced by --rate)")
	f.StringVar(&o.Duration, "duration", "", "live mode: stop after this span (default: until SIGINT/SIGTERM)")
	f.Float64Var(&o.Rate, "rate", o.Rate, "average records per second of event time (daily cycle around it)")
	f.BoolVar(&o.Flat, "flat", false, "no daily cycle: --rate at every hour (a steady load for benchmarks)")
	f.IntVar(&o.Users, "users", o.Users, "user population")
	f.DurationVar(&o.MetricInterval, "metric-interval", o.MetricInterval, "host metrics period")
	f.DurationVar(&o.AnomalyEvery, "anomaly-every", o.AnomalyEvery, "spacing of injected anomalies (kinds rotate)")
	f.StringVar(&o.Anomalies, "anomalies", o.Anomalies, "anomaly kinds: all, none, or a comma list of "+fmt.Sprint(generate.AnomalyKinds))
	f.StringVar(&o.Faults, "faults", o.Faults, "fault rates: default, none, or e.g. malformed=0.01,non_utf8=0.01,duplicate=0.02,out_of_order=0.01,future=0.005")
	f.StringVar(&o.Output, "output", "", "write JSON lines to this file (- for stdout) instead of Kafka")
	f.StringVar(&o.Summary, "summary", "", "write the run summary (counts, expected answers) as JSON here")
	f.StringVar(&o.Truth, "truth", "", "write anomaly ground truth as JSON lines here")
	f.StringVar(&o.BenchOut, "bench-out", "", "write throughput figures as JSON here (e.g. bench/results/generate.json)")
	f.StringVar(&o.TopicPrefix, "topic-prefix", "", "prepend this to every topic name (benchmarks, tests next to a running pipeline)")
	f.BoolVar(&o.EnsureTopics, "ensure-topics", o.EnsureTopics, "create the source topics if missing (Kafka output only)")
	return cmd
}
