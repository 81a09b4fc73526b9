package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"weir/config"
	"weir/jobs/alerts/rules"
	"weir/jobs/generate"
)

// DefaultRulesFile is the shipped rules file, relative to the repository.
const DefaultRulesFile = "rules/alerts.yaml"

// BacktestOptions are `weir alerts backtest`'s: the rules, the traffic (a
// weir generate --output file, or the source topics under TopicPrefix
// between From and Until, RFC 3339), an optional ground truth to score
// against within Tolerance, and an optional JSON output file.
type BacktestOptions struct {
	RulesFile, File, TopicPrefix, From, Until, Truth, Out string
	Tolerance                                             time.Duration
}

// DefaultBacktestOptions returns the defaults the command's flags start from.
func DefaultBacktestOptions() BacktestOptions {
	return BacktestOptions{RulesFile: DefaultRulesFile, Tolerance: 2 * time.Minute}
}

// RunBacktest evaluates the rules over the traffic in process and prints one
// line per episode to w, then the score when a ground truth is given. load
// is called only to read the topics.
func RunBacktest(ctx context.Context, o BacktestOptions, load func() (config.Config, error), w io.Writer) error {
	f, err := rules.Load(o.RulesFile)
	if err != nil {
		return err
	}
	var lo, hi time.Time
	for _, b := range []struct {
		s string
		t *time.Time
	}{{o.From, &lo}, {o.Until, &hi}} {
		if b.s == "" {
			continue
		}
		if *b.t, err = time.Parse(time.RFC3339, b.s); err != nil {
			return fmt.Errorf("--from/--until: %w", err)
		}
	}
	var recs []Source
	dec := Decoder{Prefix: o.TopicPrefix}
	if o.File != "" {
		in, closeIn, err := generate.OpenFile(o.File)
		if err != nil {
			return err
		}
		err = generate.ReadRecords(in, func(r generate.FileRecord) error {
			recs = append(recs, Source{Topic: r.Topic, Value: r.Payload()})
			return nil
		})
		closeIn()
		if err != nil {
			return err
		}
	} else {
		cfg, err := load()
		if err != nil {
			return err
		}
		if dec, err = NewDecoder(cfg, o.TopicPrefix); err != nil {
			return err
		}
		if recs, err = dec.ReadSources(ctx, cfg.Kafka, f, lo, hi); err != nil {
			return err
		}
	}
	now := dec.BacktestClock(recs)
	if !hi.IsZero() {
		now = hi
	}
	eps := Episodes(dec.Backtest(f, recs, now))
	printEpisodes(w, eps)
	res := map[string]any{"records": len(recs), "episodes": eps}
	if o.Truth != "" {
		tf, err := os.Open(o.Truth)
		if err != nil {
			return fmt.Errorf("open ground truth: %w", err)
		}
		incidents, err := ReadIncidents(tf)
		tf.Close()
		if err != nil {
			return err
		}
		end := runEnd(incidents, eps, hi)
		s := ScoreEpisodes(incidents, eps, o.Tolerance, end)
		printScore(w, s)
		res["score"] = s
	}
	if o.Out != "" {
		raw, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.Out, append(raw, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.Out, err)
		}
	}
	return nil
}

// runEnd closes episodes still firing at the end of what was evaluated.
func runEnd(incidents []Incident, eps []Episode, until time.Time) time.Time {
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

func printEpisodes(w io.Writer, eps []Episode) {
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

func printScore(w io.Writer, s Score) {
	line := func(name string, q Quality) {
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

// ListOptions are `weir alerts list`'s: the job, its state database
// (default scheduler.database), how far back, and JSON instead of a table.
type ListOptions struct {
	Job, StateDB string
	Since        time.Duration
	JSON         bool
}

// DefaultListOptions returns the defaults the command's flags start from.
func DefaultListOptions() ListOptions {
	return ListOptions{Job: DefaultOptions().Job, Since: 24 * time.Hour}
}

// List prints the episodes of the notifications the job stored within
// o.Since: firing ones and those resolved.
func List(ctx context.Context, cfg config.Config, o ListOptions, w io.Writer) error {
	dsn := o.StateDB
	if dsn == "" {
		dsn = cfg.Scheduler.Database
	}
	st, err := OpenStore(ctx, dsn, o.Job)
	if err != nil {
		return err
	}
	defer st.Close()
	ns, err := st.Notifications(ctx, time.Now().Add(-o.Since))
	if err != nil {
		return err
	}
	eps := Episodes(ns)
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(eps)
	}
	fmt.Fprintf(w, "%-9s %-24s %-22s %-22s %-40s %s\n", "STATE", "RULE", "START", "END", "LABELS", "VALUES")
	for _, e := range eps {
		state, end := "firing", ""
		if !e.End.IsZero() {
			state, end = "resolved", e.End.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%-9s %-24s %-22s %-22s %-40s %v\n", state, e.Rule, e.Start.UTC().Format(time.RFC3339), end, labelString(e.Labels), e.Values)
	}
	return nil
}
