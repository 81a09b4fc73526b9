//go:build integration && bench

package alerts

import (
	"os"
	"strconv"
	"testing"
	"time"

	"weir/jobs/alerts/rules"
)

// TestBenchGroundTruthSweep scores the shipped rules against the generator's
// ground truth over many generated days, through the engine alone: each day
// ends at another minute (so anomalies fall at other hours, with other
// background traffic), for two seeds. One scored day (TestGeneratorGroundTruth)
// says little about a rule set; the sweep is what the rules were tuned
// against. make bench runs it; WEIR_BENCH_SWEEP_DAYS sets the days per seed.
//
//	go test -tags 'integration bench' -run '^TestBenchGroundTruthSweep$' -v ./jobs/alerts
func TestBenchGroundTruthSweep(t *testing.T) {
	f, err := rules.Load("../../rules/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	days := 60
	if v := os.Getenv("WEIR_BENCH_SWEEP_DAYS"); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			t.Fatalf("WEIR_BENCH_SWEEP_DAYS: %v", err)
		}
	}
	base := time.Date(2026, 11, 21, 23, 5, 0, 0, time.UTC)
	var scored, perfect, anomalies, alerts, matched, explained, missed, falseAlerts int
	minRecall, minPrecision := 1.0, 1.0
	began := time.Now()
	for _, seed := range []uint64{7, 11} {
		for k := 0; k < days; k++ {
			end := base.Add(time.Duration(k*47) * time.Minute) // 47 min apart: every hour of the day
			cfg := generatorConfig(seed, end.Add(-24*time.Hour), 24*time.Hour)
			s := scoreDay(t, f, generateInMemory(t, cfg), end)
			scored++
			anomalies += s.Anomalies
			alerts += s.Alerts
			matched += s.Matched
			explained += s.Explained
			missed += len(s.Missed)
			falseAlerts += len(s.False)
			minRecall, minPrecision = min(minRecall, s.Recall), min(minPrecision, s.Precision)
			if s.Recall == 1 && s.Precision == 1 {
				perfect++
			} else {
				t.Logf("seed %d, day ending %s:", seed, end.Format(time.RFC3339))
				s.report(t, cfg.Start)
			}
		}
	}
	t.Logf("%d days: %d perfect; %d anomalies, %d missed; %d alerts, %d false", scored, perfect, anomalies, missed, alerts, falseAlerts)
	writeResults(t, "ground_truth_sweep", map[string]any{
		"what":          "shipped rules over generated days (rate 10/s, every anomaly kind twice a day, default faults) through the engine alone, scored as TestGeneratorGroundTruth does",
		"seeds":         []int{7, 11},
		"days":          scored,
		"days_perfect":  perfect,
		"anomalies":     anomalies,
		"missed":        missed,
		"alerts":        alerts,
		"matched":       matched,
		"explained":     explained,
		"false_alerts":  falseAlerts,
		"min_recall":    minRecall,
		"min_precision": minPrecision,
		"seconds":       time.Since(began).Seconds(),
		"measured_at":   time.Now().UTC(),
	})
	if missed > 0 || float64(matched+explained) < 0.95*float64(alerts) {
		t.Errorf("%d anomalies missed, precision %.3f over all days", missed, float64(matched+explained)/float64(max(alerts, 1)))
	}
}
