package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"weir/jobs/alerts/rules"
	"weir/jobs/generate"
)

// Scoring alerts against ground truth (the generator's JSON lines, or the
// in-test scenario's truths of the same shape).
//
// An alert matches an anomaly when
//   - its kind label equals the anomaly's kind,
//   - every label both carry has the same value (the generator's
//     "operation" is what app.events calls "type"), and
//   - the window that fired it overlaps [start − tolerance, end + tolerance].
//
// An alert that matches no anomaly this way may still be explained by one:
// the generator lists, for each anomaly, the labels of other operations it
// shows in (its "effects": a callee's latency regression slows its callers,
// whose durations include its own). Such an alert, of the same kind and
// time, counts as explained, and is reported apart from the matched ones.

// overlaps: the alert's firing window meets the anomaly's span widened by tol.
func (t truth) overlaps(n Notification, tol time.Duration) bool {
	return n.WindowEnd.After(t.Start.Add(-tol)) && n.WindowStart.Before(t.End.Add(tol))
}

// matches: same kind, agreeing labels, overlapping time.
func (t truth) matches(n Notification, tol time.Duration) bool {
	return n.Labels["kind"] == t.Kind && labelsAgree(t.Labels, n.Labels) && t.overlaps(n, tol)
}

// explains: the alert is at the anomaly's time, with the labels of one of
// the effects the ground truth lists for it, and of the effect's kind (the
// anomaly's own unless the effect names another).
func (t truth) explains(n Notification, tol time.Duration) bool {
	if !t.overlaps(n, tol) {
		return false
	}
	return slices.ContainsFunc(t.Effects, func(labels map[string]string) bool {
		kind := labels["kind"]
		if kind == "" {
			kind = t.Kind
		}
		return n.Labels["kind"] == kind && labelsAgree(labels, n.Labels)
	})
}

// scoreResult compares the firing notifications with the ground truth.
type scoreResult struct {
	Anomalies int
	Alerts    int // firing notifications
	Matched   int // alerts matching an anomaly
	Explained int // alerts on an effect the ground truth lists (and matching none)
	Recall    float64
	Precision float64 // matched and explained alerts over all alerts
	Missed    []truth
	False     []Notification
}

func score(truths []truth, ns []Notification, tol time.Duration) scoreResult {
	var s scoreResult
	s.Anomalies = len(truths)
	var firing []Notification
	for _, n := range ns {
		if n.Status == Firing {
			firing = append(firing, n)
		}
	}
	s.Alerts = len(firing)
	for _, t := range truths {
		if !slices.ContainsFunc(firing, func(n Notification) bool { return t.matches(n, tol) }) {
			s.Missed = append(s.Missed, t)
		}
	}
	for _, n := range firing {
		switch {
		case slices.ContainsFunc(truths, func(t truth) bool { return t.matches(n, tol) }):
			s.Matched++
		case slices.ContainsFunc(truths, func(t truth) bool { return t.explains(n, tol) }):
			s.Explained++
		default:
			s.False = append(s.False, n)
		}
	}
	s.Recall = float64(len(truths)-len(s.Missed)) / float64(max(len(truths), 1))
	s.Precision = 1
	if len(firing) > 0 {
		s.Precision = float64(s.Matched+s.Explained) / float64(len(firing))
	}
	return s
}

// report logs misses (as errors) and false alerts.
func (s scoreResult) report(t *testing.T, origin time.Time) {
	t.Helper()
	for _, m := range s.Missed {
		t.Errorf("missed %s %v at +%s..+%s", m.Kind, m.Labels, m.Start.Sub(origin), m.End.Sub(origin))
	}
	for _, n := range s.False {
		t.Logf("false alert %s %v window +%s..+%s values %v", n.Rule, n.Labels, n.WindowStart.Sub(origin), n.WindowEnd.Sub(origin), n.Values)
	}
	t.Logf("%d anomalies, %d alerts (%d matched, %d explained by an anomaly's effects), recall %.3f precision %.3f",
		s.Anomalies, s.Alerts, s.Matched, s.Explained, s.Recall, s.Precision)
}

func TestScore(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 3, 2, 10, m, 0, 0, time.UTC) }
	alert := func(kind string, labels map[string]string, from, to int) Notification {
		l := map[string]string{"kind": kind, "alertname": "A", "severity": "warning"}
		for k, v := range labels {
			l[k] = v
		}
		return Notification{Status: Firing, Labels: l, WindowStart: at(from), WindowEnd: at(to)}
	}
	outage := truth{Kind: "provider_outage", Labels: map[string]string{"provider": "p1"}, Start: at(10), End: at(25)}
	bot := truth{Kind: "bot_repeat", Labels: map[string]string{"user_id": "bot-1", "operation": "reserve", "client_ip": "1.2.3.4"}, Start: at(10), End: at(20)}
	outageLogs := truth{Kind: "provider_outage", Labels: map[string]string{"provider": "p1"}, Start: at(10), End: at(25),
		Effects: []map[string]string{{"kind": "error_spike", "service": "payments"}}}
	slowInv := truth{Kind: "latency_regression", Labels: map[string]string{"service": "inventory", "operation": "reserve"}, Start: at(10), End: at(25),
		Effects: []map[string]string{{"service": "cart", "operation": "reserve"}}}
	tests := []struct {
		name     string
		truth    truth
		alert    Notification
		matches  bool
		explains bool
	}{
		{"same kind, label, time", outage, alert("provider_outage", map[string]string{"provider": "p1"}, 12, 17), true, false},
		{"other provider", outage, alert("provider_outage", map[string]string{"provider": "p2"}, 12, 17), false, false},
		{"other kind", outage, alert("error_spike", map[string]string{"provider": "p1"}, 12, 17), false, false},
		{"window before the outage", outage, alert("provider_outage", map[string]string{"provider": "p1"}, 2, 7), false, false},
		{"window within tolerance after", outage, alert("provider_outage", map[string]string{"provider": "p1"}, 26, 31), true, false},
		{"operation is type", bot, alert("bot_repeat", map[string]string{"user_id": "bot-1", "type": "reserve"}, 11, 12), true, false},
		{"other operation", bot, alert("bot_repeat", map[string]string{"user_id": "bot-1", "type": "buy"}, 11, 12), false, false},
		{"labels only one side has are ignored", bot, alert("bot_repeat", map[string]string{"user_id": "bot-1"}, 11, 12), true, false},
		{"callee regression", slowInv, alert("latency_regression", map[string]string{"service": "inventory", "type": "reserve"}, 12, 17), true, false},
		{"caller slowed by the callee (an effect)", slowInv, alert("latency_regression", map[string]string{"service": "cart", "type": "reserve"}, 12, 17), false, true},
		{"payments logging an outage's failures (an effect of another kind)", outageLogs, alert("error_spike", map[string]string{"service": "payments"}, 12, 17), false, true},
		{"another service's error spike", outageLogs, alert("error_spike", map[string]string{"service": "orders"}, 12, 17), false, false},
		{"an outage-kind alert on payments", outageLogs, alert("provider_outage", map[string]string{"service": "payments"}, 12, 17), true, false},
		{"unrelated operation", slowInv, alert("latency_regression", map[string]string{"service": "orders", "type": "buy"}, 12, 17), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.truth.matches(tt.alert, 2*time.Minute); got != tt.matches {
				t.Errorf("matches = %v, want %v", got, tt.matches)
			}
			if got := tt.truth.explains(tt.alert, 2*time.Minute); got != tt.explains {
				t.Errorf("explains = %v, want %v", got, tt.explains)
			}
		})
	}
	s := score([]truth{outage, slowInv}, []Notification{
		alert("provider_outage", map[string]string{"provider": "p1"}, 12, 17),
		alert("latency_regression", map[string]string{"service": "cart", "type": "reserve"}, 12, 17),
		alert("error_spike", map[string]string{"service": "cart"}, 12, 17),
		{Status: Resolved, Labels: map[string]string{"kind": "error_spike"}},
	}, 2*time.Minute)
	if s.Alerts != 3 || s.Matched != 1 || s.Explained != 1 || len(s.False) != 1 || len(s.Missed) != 1 || s.Recall != 0.5 {
		t.Errorf("score = %+v", s)
	}
}

// generated is one in-memory generator run: records in emission order and
// the ground truth.
type generated struct {
	cfg   generate.Config
	msgs  []scenarioMsg
	truth []truth
}

type memorySink struct{ msgs []scenarioMsg }

func (s *memorySink) Produce(_ context.Context, topic string, key, value []byte) error {
	s.msgs = append(s.msgs, scenarioMsg{topic: topic, key: string(key), value: bytes.Clone(value)})
	return nil
}

// generatorConfig is the generator run the ground-truth tests score: every
// anomaly kind, twice a day, over the generator's default background
// traffic at a low rate and its default producer faults.
func generatorConfig(seed uint64, start time.Time, span time.Duration) generate.Config {
	cfg := generate.Default(start)
	cfg.Seed = seed
	cfg.End = start.Add(span)
	cfg.Rate = 10
	cfg.AnomalyEvery = 2 * time.Hour
	cfg.Anomalies = nil // all kinds
	return cfg
}

// readTruth decodes ground-truth JSON lines.
func readTruth(r io.Reader) ([]truth, error) {
	var out []truth
	dec := json.NewDecoder(r)
	for {
		var a truth
		if err := dec.Decode(&a); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, fmt.Errorf("decode ground truth: %w", err)
		}
		out = append(out, a)
	}
}

func generateInMemory(t *testing.T, cfg generate.Config) *generated {
	t.Helper()
	g, err := generate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sink memorySink
	var tr bytes.Buffer
	if _, err := g.Run(context.Background(), &sink, &tr); err != nil {
		t.Fatal(err)
	}
	truths, err := readTruth(&tr)
	if err != nil {
		t.Fatal(err)
	}
	return &generated{cfg: cfg, msgs: sink.msgs, truth: truths}
}

// engineNotifications runs records through Backtest (wall clock at now).
func engineNotifications(f *rules.File, msgs []scenarioMsg, now time.Time) []Notification {
	recs := make([]Source, len(msgs))
	for i, m := range msgs {
		recs[i] = Source{Topic: m.topic, Value: m.value}
	}
	return Backtest(f, recs, now)
}
