package alerts

import (
	"os"
	"testing"
	"time"

	"weir/jobs/alerts/rules"
)

// TestShippedRulesOnScenario runs the shipped rules over the in-memory
// scenario through the engine alone (no Kafka): every anomaly is found and
// nothing else fires.
func TestShippedRulesOnScenario(t *testing.T) {
	raw, err := os.ReadFile("../../rules/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := rules.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sc := buildScenario(1, start, 36*time.Minute, 20)
	clk := &clock{t: sc.end.Add(time.Hour)}
	e := NewEngine(f, clk.now)
	for _, d := range dimItems() {
		fl, _, err := Decode(d.topic, d.value)
		if err != nil {
			t.Fatal(err)
		}
		e.Dimension(d.topic, fl)
	}
	var all []Notification
	for i, m := range sc.msgs {
		fl, ts, err := Decode(m.topic, m.value)
		if err != nil {
			t.Fatalf("decode %s: %v", m.value, err)
		}
		e.Process(Record{Topic: m.topic, Partition: 0, Offset: int64(i), TS: ts.UnixMilli(), Fields: fl})
		if i%5000 == 0 {
			e.Advance()
			ns, _ := e.Drain()
			all = append(all, ns...)
		}
	}
	e.Advance()
	ns, late := e.Drain()
	all = append(all, ns...)
	if len(late) != 0 {
		t.Errorf("%d late records in an ordered scenario", len(late))
	}
	s := score(sc.truth, all, 2*time.Minute)
	s.report(t, start)
	for _, n := range s.False {
		t.Errorf("false alert %s %v", n.Rule, n.Labels)
	}
	t.Logf("%d notifications, state %d entries", len(all), e.StateSize())
}
