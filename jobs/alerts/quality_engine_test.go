package alerts

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// series returns counts[w] records of service s in each 10 s window w, then
// one two windows after the last that closes them all.
func series(counts ...int) []rec {
	var recs []rec
	for w, n := range counts {
		for i := 0; i < n; i++ {
			recs = append(recs, at(time.Duration(w)*10*time.Second+time.Duration(i)*5*time.Second/time.Duration(n), "service", "s"))
		}
	}
	return append(recs, at(time.Duration(len(counts)+2)*10*time.Second, "service", "other"))
}

const spikeRule = `
settings: {out_of_orderness: 0s, allowed_lateness: 0s}
rules:
  - name: Spike
    source: t
    group_by: [service]
    window: {size: 10s}
    %s
    conditions:
      - {aggregate: count, op: ">", baseline: {factor: 3, windows: 3 %s}}
`

func spikeEngine(t *testing.T, rule, baseline string) *Engine {
	e, _ := newTestEngine(t, fmt.Sprintf(spikeRule, rule, baseline))
	return e
}

// TestBaselineIgnoresTheIncident: a long steady incident keeps firing; the
// windows it spans do not enter the baseline (before, the trailing mean
// took them in and the alert resolved after two windows).
func TestBaselineIgnoresTheIncident(t *testing.T) {
	e := spikeEngine(t, "", "")
	feed(e, "t", series(2, 2, 2, 2, 10, 10, 10, 10, 10, 10, 10, 10, 2, 2)...)
	ns, _ := e.Drain()
	equal(t, summary(ns, "service"), []string{
		"firing Spike service=s +50s",
		"resolved Spike service=s +50s..+2m10s",
	})
}

// TestKeepFiringFor: a dip of one window inside an incident does not split
// it into two episodes; without keep_firing_for it does.
func TestKeepFiringFor(t *testing.T) {
	counts := []int{2, 2, 2, 2, 10, 10, 3, 10, 10, 2, 2, 2}
	e := spikeEngine(t, "", "")
	feed(e, "t", series(counts...)...)
	ns, _ := e.Drain()
	equal(t, summary(ns, "service"), []string{
		"firing Spike service=s +1m20s",
		"firing Spike service=s +50s",
		"resolved Spike service=s +1m20s..+1m40s",
		"resolved Spike service=s +50s..+1m10s",
	})
	e = spikeEngine(t, "keep_firing_for: 20s", "")
	feed(e, "t", series(counts...)...)
	ns, _ = e.Drain()
	equal(t, summary(ns, "service"), []string{
		"firing Spike service=s +50s",
		"resolved Spike service=s +50s..+1m50s",
	})
}

// TestResolveFactor: a lower resolve threshold keeps the alert firing while
// the level stays above it.
func TestResolveFactor(t *testing.T) {
	e := spikeEngine(t, "", ", resolve_factor: 1.5")
	feed(e, "t", series(2, 2, 2, 2, 10, 5, 5, 2, 2)...)
	ns, _ := e.Drain()
	equal(t, summary(ns, "service"), []string{
		"firing Spike service=s +50s",
		"resolved Spike service=s +50s..+1m20s",
	})
}

// TestSignificantExcessHolds: a firing alert whose window dips under the
// resolve level keeps firing while the excess is still significant (22
// against a usual 10: P = 7·10⁻⁴ < 10⁻²), and resolves on a dip that
// chance explains (15: P = 0.08). A noisy tail percentile at low volume
// hovering around its resolve level flapped before.
func TestSignificantExcessHolds(t *testing.T) {
	for _, tc := range []struct {
		dip  int
		want string
	}{
		{22, "resolved Spike service=s +50s..+1m10s"},
		{15, "resolved Spike service=s +50s..+1m0s"},
	} {
		e, _ := newTestEngine(t, `
settings: {out_of_orderness: 0s, allowed_lateness: 0s}
rules:
  - name: Spike
    source: t
    group_by: [service]
    window: {size: 10s}
    conditions:
      - {aggregate: count, op: ">", baseline: {factor: 3, windows: 3, resolve_factor: 2.5}, significance: 1e-2}
`)
		feed(e, "t", series(10, 10, 10, 10, 60, tc.dip, 10, 10)...)
		ns, _ := e.Drain()
		equal(t, summary(ns, "service"), []string{"firing Spike service=s +50s", tc.want})
	}
}

// TestOnsetFromResolveLevel: an alert is dated back to the first window of
// the unbroken run at its resolve level that led to it (a rise that held
// at 1.5× before crossing 3×); without a resolve level, to its first true
// window.
func TestOnsetFromResolveLevel(t *testing.T) {
	for _, tc := range []struct {
		baseline string
		want     []string
	}{
		{", resolve_factor: 1.5", []string{"firing Spike service=s +50s", "resolved Spike service=s +50s..+1m30s"}},
		{"", []string{"firing Spike service=s +1m10s", "resolved Spike service=s +1m10s..+1m30s"}},
	} {
		e := spikeEngine(t, "", tc.baseline)
		feed(e, "t", series(2, 2, 2, 2, 4, 5, 20, 20, 2, 2, 2)...)
		ns, _ := e.Drain()
		equal(t, summary(ns, "service"), tc.want)
	}
}

// TestLaggedBaselineCatchesRamp: a slow ramp never triples its trailing
// average, but triples the level before it began.
func TestLaggedBaselineCatchesRamp(t *testing.T) {
	ramp := []int{2, 2, 2, 2, 2, 2, 2, 3, 5, 7, 9, 11, 13, 15, 2, 2, 2, 2}
	e := spikeEngine(t, "", "")
	feed(e, "t", series(ramp...)...)
	if ns, _ := e.Drain(); len(ns) != 0 {
		t.Errorf("trailing baseline fired on a slow ramp: %v", summary(ns, "service"))
	}
	e = spikeEngine(t, "", ", lag: 30s")
	feed(e, "t", series(ramp...)...)
	ns, _ := e.Drain()
	equal(t, summary(ns, "service"), []string{
		"firing Spike service=s +1m40s",
		"resolved Spike service=s +1m40s..+2m30s",
	})
}

func TestExcessPValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"poisson P(X≥3; 1)", poissonTail(3, 1), 1 - math.Exp(-1)*2.5},
		{"poisson P(X≥0; 5)", poissonTail(0, 5), 1},
		{"poisson P(X≥1; 0)", poissonTail(1, 0), 0},
		{"binomial all 10 fail at 5%", binomialTail(10, 10, 0.05), math.Pow(0.05, 10)},
		{"binomial ≥2 of 20 at 50%", binomialTail(20, 2, 0.5), 1 - 21*math.Pow(0.5, 20)},
		{"binomial ≥1 of 3 at 10%", binomialTail(3, 1, 0.1), 1 - math.Pow(0.9, 3)},
		{"count aggregate", excessPValue("count", 3, 1, 0), 1 - math.Exp(-1)*2.5},
		{"ratio aggregate: 4 of 4 at 5%", excessPValue("ratio", 1, 0.05, 4), math.Pow(0.05, 4)},
		{"median: 10 of 10 above", percentilePValue(0.5, 10, 10), math.Pow(0.5, 10)},
		{"p95: ≥1 of 2 above", percentilePValue(0.95, 1, 2), 1 - 0.95*0.95},
		{"sketch above", float64(sketchOf(1, 2, 3, 10, 20).Above(5)), 2},
		{"sketch above all", float64(sketchOf(1, 2, 3).Above(0.5)), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > 1e-9*math.Max(1, tc.want) && math.Abs(tc.got/tc.want-1) > 1e-6 {
				t.Errorf("got %g, want %g", tc.got, tc.want)
			}
		})
	}
}

func sketchOf(vs ...float64) *Sketch {
	s := newSketch()
	for _, v := range vs {
		s.Add(v)
	}
	return s
}
