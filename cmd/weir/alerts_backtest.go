package main

import (
	"github.com/spf13/cobra"

	"weir/jobs/alerts"
)

func newAlertsBacktestCmd(g *globals) *cobra.Command {
	o := alerts.DefaultBacktestOptions()
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "evaluate rules over recorded traffic (source topics or a generate --output file); print episodes, score them against a ground truth",
		Long: `backtest evaluates a rules file over history in process: the source topics
as they are in Kafka (--topic-prefix for a copy; --from/--until bound the
event time), or a weir generate --output file (--file). No checkpoint, sink
or consumer group is touched. It prints one line per alert episode (firing
to resolved). With --truth (weir generate --truth lines, or incidents written
by hand in the same shape) it scores the episodes per kind and overall:
recall, precision, episodes per incident, coverage (from the episodes'
startsAt to endsAt, as their notifications say, and from when each was
raised). --out writes episodes and score as JSON.`,
		Example: `  # tune a rule against the last day of the topics
  weir alerts backtest --rules rules/alerts.yaml --from 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z
  # score the rules against a generated day and its ground truth
  weir generate --history 12h --rate 10 --anomaly-every 1h --output gen.jsonl --truth truth.jsonl
  weir alerts backtest --file gen.jsonl --truth truth.jsonl --out score.json`,
		RunE: func(c *cobra.Command, _ []string) error {
			return alerts.RunBacktest(c.Context(), o, g.load, c.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.RulesFile, "rules", o.RulesFile, "rules file")
	fl.StringVar(&o.File, "file", "", "a weir generate --output file to evaluate instead of the Kafka topics")
	fl.StringVar(&o.TopicPrefix, "topic-prefix", "", "prefix of the source topics (a staging or test copy)")
	fl.StringVar(&o.From, "from", "", "first event time evaluated (RFC 3339; default: the topics' start)")
	fl.StringVar(&o.Until, "until", "", "event time where evaluation stops (RFC 3339; default: the topics' end)")
	fl.StringVar(&o.Truth, "truth", "", "ground-truth incidents (JSON lines: kind, labels, start, end) to score the episodes against")
	fl.DurationVar(&o.Tolerance, "tolerance", o.Tolerance, "an episode matches an incident whose span, widened by this, it meets")
	fl.StringVar(&o.Out, "out", "", "write episodes (and the score) as JSON to this file")
	return cmd
}
