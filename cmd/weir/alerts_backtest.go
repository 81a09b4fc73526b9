package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"weir/jobs/alerts"
	"weir/jobs/alerts/rules"
	"weir/jobs/generate"
)

func newAlertsBacktestCmd(g *globals) *cobra.Command {
	var (
		rulesPath, file, prefix, truthPath, out, from, until string
		tolerance                                            time.Duration
	)
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
			f, err := rules.Load(rulesPath)
			if err != nil {
				return err
			}
			var lo, hi time.Time
			for _, b := range []struct {
				s string
				t *time.Time
			}{{from, &lo}, {until, &hi}} {
				if b.s == "" {
					continue
				}
				if *b.t, err = time.Parse(time.RFC3339, b.s); err != nil {
					return fmt.Errorf("--from/--until: %w", err)
				}
			}
			var recs []alerts.Source
			if file != "" {
				in, closeIn, err := openReplayFile(file)
				if err != nil {
					return err
				}
				err = generate.ReadRecords(in, func(r generate.FileRecord) error {
					recs = append(recs, alerts.Source{Topic: r.Topic, Value: r.Payload()})
					return nil
				})
				closeIn()
				if err != nil {
					return err
				}
			} else {
				cfg, err := g.load()
				if err != nil {
					return err
				}
				if recs, err = alerts.ReadSources(c.Context(), cfg.Kafka, f, prefix, lo, hi); err != nil {
					return err
				}
			}
			now := alerts.BacktestClock(recs)
			if !hi.IsZero() {
				now = hi
			}
			eps := alerts.Episodes(alerts.Backtest(f, recs, now))
			w := c.OutOrStdout()
			printEpisodes(w, eps)
			res := map[string]any{"records": len(recs), "episodes": eps}
			if truthPath != "" {
				tf, err := os.Open(truthPath)
				if err != nil {
					return fmt.Errorf("open ground truth: %w", err)
				}
				incidents, err := alerts.ReadIncidents(tf)
				tf.Close()
				if err != nil {
					return err
				}
				end := runEnd(incidents, eps, hi)
				s := alerts.ScoreEpisodes(incidents, eps, tolerance, end)
				printScore(w, s)
				res["score"] = s
			}
			if out != "" {
				raw, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(out, append(raw, '\n'), 0o644); err != nil {
					return fmt.Errorf("write %s: %w", out, err)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&rulesPath, "rules", "rules/alerts.yaml", "rules file")
	fl.StringVar(&file, "file", "", "a weir generate --output file to evaluate instead of the Kafka topics")
	fl.StringVar(&prefix, "topic-prefix", "", "prefix of the source topics (a staging or test copy)")
	fl.StringVar(&from, "from", "", "first event time evaluated (RFC 3339; default: the topics' start)")
	fl.StringVar(&until, "until", "", "event time where evaluation stops (RFC 3339; default: the topics' end)")
	fl.StringVar(&truthPath, "truth", "", "ground-truth incidents (JSON lines: kind, labels, start, end) to score the episodes against")
	fl.DurationVar(&tolerance, "tolerance", 2*time.Minute, "an episode matches an incident whose span, widened by this, it meets")
	fl.StringVar(&out, "out", "", "write episodes (and the score) as JSON to this file")
	return cmd
}

// runEnd closes episodes still firing at the end of what was evaluated.
func runEnd(incidents []alerts.Incident, eps []alerts.Episode, until time.Time) time.Time {
	if !until.IsZero() {
		return until
	}
	var end time.Time
	for _, in := range incidents {
		if in.End.After(end) {
			end = in.End
		}
	}
	for _, e := range eps {
		for _, t := range []time.Time{e.Start, e.End} {
			if t.After(end) {
				end = t
			}
		}
	}
	return end
}

func printEpisodes(w io.Writer, eps []alerts.Episode) {
	fmt.Fprintf(w, "%-24s %-24s %-22s %s\n", "RULE", "START", "END", "LABELS")
	for _, e := range eps {
		end := "firing"
		if !e.End.IsZero() {
			end = e.End.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%-24s %-24s %-22s %s\n", e.Rule, e.Start.UTC().Format(time.RFC3339), end, labelString(e.Labels))
	}
}

// labelString renders labels other than alertname and severity, sorted.
func labelString(l map[string]string) string {
	var ks []string
	for k := range l {
		if k != "alertname" && k != "severity" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + l[k])
	}
	return b.String()
}

func printScore(w io.Writer, s alerts.Score) {
	line := func(name string, q alerts.Quality) {
		fmt.Fprintf(w, "%-20s incidents %3d  recall %.3f  episodes %3d  precision %.3f  episodes/incident %.2f (max %d)  coverage median %.2f (from raising %.2f)  delay to raising %.0fs\n",
			name, q.Incidents, q.Recall, q.Episodes, q.Precision, q.EpisodesPerIncident, q.MaxEpisodes, q.MedianCoverage, q.MedianCoverageRaised, q.MedianDelaySeconds)
	}
	fmt.Fprintln(w)
	line("overall", s.Overall)
	var ks []string
	for k := range s.ByKind {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		line(k, s.ByKind[k])
	}
	for _, m := range s.Missed {
		fmt.Fprintf(w, "missed %s %s %v %s..%s\n", m.Kind, m.Shape, m.Labels, m.Start.UTC().Format(time.RFC3339), m.End.UTC().Format(time.RFC3339))
	}
	for _, e := range s.False {
		fmt.Fprintf(w, "false  %s %s %s\n", e.Rule, labelString(e.Labels), e.Start.UTC().Format(time.RFC3339))
	}
}
