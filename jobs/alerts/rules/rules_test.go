package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	files = append(files, "../../../rules/alerts.yaml") // the shipped rules
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := Load(path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	want := map[string]string{
		"unknown-key.bad.yaml":            "field colour not found",
		"no-rules.bad.yaml":               "rules: at least one rule is required",
		"name.bad.yaml":                   `rules[0] (bad name).name: "bad name" is not a valid alert name`,
		"source.bad.yaml":                 "rules[0] (X).source: required",
		"aggregate.bad.yaml":              `rules[0] (X).conditions[0].aggregate: want count, count_distinct, sum, ratio or percentile, got "median"`,
		"op.bad.yaml":                     `rules[0] (X).conditions[0].op: want one of > >= < <=, got "=="`,
		"threshold.bad.yaml":              "rules[0] (X).conditions[0].value: a threshold value or a baseline is required",
		"quantile.bad.yaml":               "rules[0] (X).conditions[0].q: want a quantile in (0, 1), got 95",
		"distinct-field.bad.yaml":         `rules[0] (X).conditions[0].field: count_distinct needs a field name, got ""`,
		"ratio-where.bad.yaml":            "rules[0] (X).conditions[0].where: ratio needs the numerator's filter",
		"slide.bad.yaml":                  "rules[0] (X).window.size: 5m0s is not a multiple of the slide 2m0s",
		"duration.bad.yaml":               `time: invalid duration "fivemin"`,
		"filter-ops.bad.yaml":             "rules[0] (X).filter[0]: want exactly one of eq, ne, in, not_in, gt, ge, lt, le; got 2",
		"severity.bad.yaml":               `rules[0] (X).severity: want one of info, warning, critical, got "page"`,
		"annotation.bad.yaml":             `rules[0] (X).annotations.summary: execute template`,
		"duplicate.bad.yaml":              `rules[1] (X).name: duplicate rule name "X"`,
		"sequence-key.bad.yaml":           "rules[0] (X).group_by: a sequence needs the key its records share",
		"both.bad.yaml":                   "rules[0] (X).sequence: a rule is either a sequence or a window rule",
		"for.bad.yaml":                    "rules[0] (X).for: 1m30s is not a multiple of the window slide 1m0s",
		"reserved.bad.yaml":               `rules[0] (X).group_by[0]: "alertname" is a reserved label`,
		"max-groups.bad.yaml":             "settings.max_groups: must be positive",
		"baseline.bad.yaml":               "rules[0] (X).conditions[0].baseline.factor: must be positive",
		"baseline-stat.bad.yaml":          `rules[0] (X).conditions[0].baseline.stat: want mean or median, got "mode"`,
		"significance.bad.yaml":           "rules[0] (X).conditions[0].significance: needs a baseline",
		"significance-aggregate.bad.yaml": "rules[0] (X).conditions[0].significance: only on count, ratio or percentile, not count_distinct",
		"keep-firing.bad.yaml":            "rules[0] (X).keep_firing_for: 1m30s is not a multiple of the window slide 1m0s",
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(want) {
		t.Errorf("%d bad files, %d expected errors", len(files), len(want))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if w, ok := want[name]; !ok || !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q\nwant it to contain %q", err, w)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	raw, _ := os.ReadFile("testdata/minimal.good.yaml")
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	s, r := f.Settings, f.Rules[0]
	if s.OutOfOrderness.D() != DefaultOutOfOrderness || s.AllowedLateness.D() != DefaultAllowedLateness || s.MaxGroups != DefaultMaxGroups {
		t.Errorf("settings = %+v", s)
	}
	if r.Window.Slide.D() != time.Minute || r.Severity != "warning" || r.Conditions[0].Name != "count" {
		t.Errorf("rule = %+v", r)
	}
}

func TestMatcher(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v float64) *float64 { return &v }
	rec := Map{"type": "buy", "status": "503", "amount": "12.5"}
	tests := []struct {
		name string
		m    Match
		want bool
	}{
		{"eq", Match{Field: "type", Eq: s("buy")}, true},
		{"eq other", Match{Field: "type", Eq: s("refund")}, false},
		{"eq missing", Match{Field: "nope", Eq: s("")}, false},
		{"ne", Match{Field: "type", Ne: s("refund")}, true},
		{"ne missing", Match{Field: "nope", Ne: s("x")}, true},
		{"in", Match{Field: "type", In: []string{"refund", "buy"}}, true},
		{"not in", Match{Field: "type", NotIn: []string{"buy"}}, false},
		{"ge", Match{Field: "status", Ge: n(500)}, true},
		{"lt", Match{Field: "status", Lt: n(500)}, false},
		{"gt float", Match{Field: "amount", Gt: n(12)}, true},
		{"le not a number", Match{Field: "type", Le: n(1)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Compile([]Match{tc.m}).Match(rec); got != tc.want {
				t.Fatalf("match = %v, want %v", got, tc.want)
			}
		})
	}
}
