package gold

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weir/jobs/alerts"
	"weir/jobs/alerts/rules"
	goldsql "weir/sql/gold"
)

// TestRuleRollupsAreGenerated: every rollup generated from an alert rule
// is committed as RuleRollupFile renders it from rules/alerts.yaml, so the
// anomaly view and the alert cannot disagree on a threshold, window or key.
// go test ./jobs/gold -run RuleRollups -update rewrites them.
func TestRuleRollupsAreGenerated(t *testing.T) {
	f, err := rules.Load(filepath.Join("..", "..", alerts.DefaultRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range RuleRollups {
		r := findRule(t, f, rr.Rule)
		want, err := RuleRollupFile(rr, r)
		if err != nil {
			t.Fatal(err)
		}
		name := "rollups/" + rr.Name + ".sql"
		if *update {
			if err := os.WriteFile(filepath.Join("..", "..", "sql", "gold", name), []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := fs.ReadFile(goldsql.FS, name)
		if err != nil {
			t.Fatalf("rule rollup %s of %s: %v", rr.Name, rr.Rule, err)
		}
		if string(got) != want {
			t.Errorf("sql/gold/%s is not generated from rule %s (go test ./jobs/gold -run RuleRollups -update):\n%s\nwant:\n%s", name, rr.Rule, got, want)
		}
	}
}

func findRule(t *testing.T, f *rules.File, name string) *rules.Rule {
	t.Helper()
	for i := range f.Rules {
		if f.Rules[i].Name == name {
			return &f.Rules[i]
		}
	}
	t.Fatalf("rule %s is not in %s", name, alerts.DefaultRulesFile)
	return nil
}

func TestRuleRollupSQLRejects(t *testing.T) {
	f, err := rules.Parse([]byte(`
rules:
  - name: Baseline
    source: app.events
    group_by: [service]
    window: {size: 2m, slide: 1m}
    conditions:
      - {name: n, aggregate: count, op: ">", baseline: {factor: 2, windows: 3}}
    severity: info
  - name: Percentile
    source: app.events
    group_by: [service]
    window: {size: 2m, slide: 1m}
    conditions:
      - {name: p, aggregate: percentile, field: duration_ms, q: 0.5, op: ">", value: 1}
    severity: info
  - name: Sequence
    source: app.events
    group_by: [user_id]
    sequence: {first: [{field: type, eq: buy}], then: [{field: type, eq: refund}], within: 1m}
    severity: info
`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Rules {
		r := &f.Rules[i]
		if _, err := RuleRollupSQL(r, "silver.events"); err == nil || !strings.Contains(err.Error(), r.Name) {
			t.Errorf("%s: err = %v, want an error naming the rule", r.Name, err)
		}
	}
}
