// Package rules is the alert job's rule language: a YAML file of window rules
// (filter → group by → aggregates over an event-time window → threshold or
// baseline, held for a minimum duration) and sequence rules (A then B by the
// same key within T). Load parses strictly (unknown keys are errors), applies
// defaults and validates every rule, naming the offending field; Compile turns
// filters into matchers over any record that exposes its fields by name.
//
// A new alert needs a new rule in the file, never new code.
package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"weir/events"
)

// File is a whole rules file.
type File struct {
	Settings Settings `yaml:"settings,omitempty"`
	Rules    []Rule   `yaml:"rules,omitempty"`
}

// Settings apply to every rule of a file.
type Settings struct {
	// OutOfOrderness is how far behind the newest event time a record may be
	// and still count as on time: watermark = max event time − OutOfOrderness.
	OutOfOrderness Duration `yaml:"out_of_orderness"`
	// AllowedLateness keeps a closed window's state this long past the
	// watermark so late records update it (and re-fire or resolve alerts).
	AllowedLateness Duration `yaml:"allowed_lateness"`
	// IdleTimeout: a partition that delivered nothing for this long (wall
	// time) no longer holds the watermark back.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxFuture: records stamped further than this ahead of the wall clock are
	// counted as late records (reason "future") instead of moving the
	// watermark. Default events.DefaultMaxFuture, the same limit past which
	// silver quarantines a record in silver.rejects.
	MaxFuture Duration `yaml:"max_future"`
	// MaxGroups bounds the groups (or sequence keys) one rule keeps; records
	// of new groups beyond it are counted and dropped.
	MaxGroups int `yaml:"max_groups"`
	// ExternalLabels are added to every alert (e.g. env, cluster).
	ExternalLabels map[string]string `yaml:"external_labels,omitempty"`
	// Enrich joins dimension topics into source records by key.
	Enrich []Enrich `yaml:"enrich,omitempty"`
}

// Enrich adds field As to records of Source, looked up by the value of field
// On in the dimension records of Topic (keyed by their field Key, value in
// field Value). Dimension topics are compacted; the last record per key wins.
type Enrich struct {
	Topic  string `yaml:"topic,omitempty"`
	Key    string `yaml:"key,omitempty"`
	Value  string `yaml:"value,omitempty"`
	Source string `yaml:"source,omitempty"`
	On     string `yaml:"on,omitempty"`
	As     string `yaml:"as,omitempty"`
}

// Rule is one alerting rule: exactly one of Conditions (a window rule) or
// Sequence (a sequence rule) is set.
type Rule struct {
	Name       string      `yaml:"name,omitempty"`
	Source     string      `yaml:"source,omitempty"`
	Filter     []Match     `yaml:"filter,omitempty"`
	GroupBy    []string    `yaml:"group_by,omitempty"`
	Window     *Window     `yaml:"window,omitempty"`
	Conditions []Condition `yaml:"conditions,omitempty"`
	Sequence   *Sequence   `yaml:"sequence,omitempty"`
	For        Duration    `yaml:"for,omitempty"`
	// KeepFiringFor keeps a firing alert firing until its resolve
	// conditions have been false for this long (Prometheus's
	// keep_firing_for): a dip of a few windows inside one incident does not
	// end its episode.
	KeepFiringFor Duration          `yaml:"keep_firing_for,omitempty"`
	Severity      string            `yaml:"severity,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

// Window is an event-time window: tumbling when Slide is zero or equal to
// Size, sliding otherwise (Size must be a multiple of Slide).
type Window struct {
	Size  Duration `yaml:"size,omitempty"`
	Slide Duration `yaml:"slide,omitempty"`
}

// Match is one filter clause on a record field; exactly one operator is set.
// String operators compare the field's text, numeric ones its number.
type Match struct {
	Field string   `yaml:"field,omitempty"`
	Eq    *string  `yaml:"eq,omitempty"`
	Ne    *string  `yaml:"ne,omitempty"`
	In    []string `yaml:"in,omitempty"`
	NotIn []string `yaml:"not_in,omitempty"`
	Gt    *float64 `yaml:"gt,omitempty"`
	Ge    *float64 `yaml:"ge,omitempty"`
	Lt    *float64 `yaml:"lt,omitempty"`
	Le    *float64 `yaml:"le,omitempty"`
}

// Aggregate names.
const (
	Count         = "count"
	CountDistinct = "count_distinct"
	Sum           = "sum"
	Ratio         = "ratio"
	Percentile    = "percentile"
)

// Condition is one aggregate over a window compared with a threshold or a
// baseline. All conditions of a rule must hold for a window to be true.
type Condition struct {
	// Name keys the value in annotations ({{.Values.name}}); defaults to the
	// aggregate name.
	Name      string    `yaml:"name,omitempty"`
	Aggregate string    `yaml:"aggregate,omitempty"`
	Field     string    `yaml:"field,omitempty"` // count_distinct, sum, percentile
	Where     []Match   `yaml:"where,omitempty"` // ratio: the numerator's filter
	Q         float64   `yaml:"q,omitempty"`     // percentile, in (0, 1)
	Op        string    `yaml:"op,omitempty"`    // > >= < <=
	Value     *float64  `yaml:"value,omitempty"`
	Baseline  *Baseline `yaml:"baseline,omitempty"`
	// Resolve is the threshold a firing alert is compared with instead of
	// Value (hysteresis): e.g. fire at ratio > 0.2, stay firing while
	// ratio > 0.1. Default: Value.
	Resolve *float64 `yaml:"resolve,omitempty"`
	// Significance (a p-value, e.g. 1e-4) also asks that the window's
	// value be improbable under the baseline: for a count, P(Poisson(b) ≥
	// v); for a ratio, P(Binomial(n, b) ≥ v·n) with n the window's records.
	// For a percentile of quantile q, P(Binomial(n, 1−q) ≥ k) with k the
	// window's n values above the baseline's (unscaled) level: more values
	// above the usual q-quantile than chance explains (a sign test), so a
	// few slow calls of a quiet operation do not move it.
	// A quiet group's complete outage is significant with a handful of
	// records, a busy group's bad minute is not: the floor scales with the
	// group. Only on baseline conditions of count, ratio or percentile with
	// op > or >=. A firing alert's condition also holds while its window
	// is still significant, below the resolve level.
	Significance float64 `yaml:"significance,omitempty"`
}

// Baseline compares with Factor × the average of the same aggregate over the
// Windows previous non-overlapping windows of the same group (absent = 0)
// that end at least Lag before the window. Windows that were part of an
// alert of the rule (a true window, or one inside a firing episode) are
// skipped, and older ones taken instead, so the baseline never learns the
// incident; when none is left within the look-back it stays at the last
// value it had (frozen). Stat "median" takes their median instead: one
// outlier window (a quiet hour's p95 is its slowest request) then does not
// lift the baseline.
//
// Lag 0 is a trailing baseline (catches steps within minutes); a lag of
// half an hour or more catches ramps that a trailing baseline follows up;
// Lag 24h (168h) is a seasonal baseline, the same time yesterday (last
// week), for groups whose level follows the time of day.
type Baseline struct {
	Factor  float64  `yaml:"factor,omitempty"`
	Windows int      `yaml:"windows,omitempty"`
	Stat    string   `yaml:"stat,omitempty"` // mean (default) or median
	Lag     Duration `yaml:"lag,omitempty"`
	// Min is the smallest baseline used (a new or silent group's baseline
	// is 0, and every record would be above it).
	Min float64 `yaml:"min,omitempty"`
	// ResolveFactor replaces Factor while the alert fires (hysteresis).
	// Default: Factor.
	ResolveFactor float64 `yaml:"resolve_factor,omitempty"`
}

// Baseline statistics.
const (
	Mean   = "mean"
	Median = "median"
)

// Sequence fires when a record matching First is followed, for the same
// group-by key (and the same values of the Same fields), by a record
// matching Then within Within (event time). The alert stays active for Hold
// after the second record; another match of the same group while it is
// active extends it (one episode, not one per match).
type Sequence struct {
	First  []Match  `yaml:"first,omitempty"`
	Then   []Match  `yaml:"then,omitempty"`
	Within Duration `yaml:"within,omitempty"`
	Hold   Duration `yaml:"hold,omitempty"`
	// Same are fields both records must share besides group_by, without
	// becoming labels: e.g. the order a refund returns.
	Same []string `yaml:"same,omitempty"`
}

// MaxBaselineLag is the longest baseline lag (a week: the same time last
// week).
const MaxBaselineLag = 7 * 24 * time.Hour

// Severities a rule may have.
var Severities = []string{"info", "warning", "critical"}

// Defaults.
const (
	DefaultOutOfOrderness  = 2 * time.Second
	DefaultAllowedLateness = 2 * time.Minute
	DefaultIdleTimeout     = 5 * time.Second
	DefaultMaxFuture       = events.DefaultMaxFuture // the same future as silver's
	DefaultMaxGroups       = 100_000
)

// Load reads and validates a rules file.
func Load(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	f, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes a rules file strictly, applies defaults and validates it.
func Parse(raw []byte) (*File, error) {
	f := File{Settings: DefaultSettings()}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("rules: at least one rule is required")
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	f.setDefaults()
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// DefaultSettings are the settings of a file that names none; keys a file
// gives (zero included) override them.
func DefaultSettings() Settings {
	return Settings{
		OutOfOrderness:  Duration(DefaultOutOfOrderness),
		AllowedLateness: Duration(DefaultAllowedLateness),
		IdleTimeout:     Duration(DefaultIdleTimeout),
		MaxFuture:       Duration(DefaultMaxFuture),
		MaxGroups:       DefaultMaxGroups,
	}
}

func (f *File) setDefaults() {
	for i := range f.Rules {
		r := &f.Rules[i]
		if r.Window != nil && r.Window.Slide == 0 {
			r.Window.Slide = r.Window.Size
		}
		if r.Severity == "" {
			r.Severity = "warning"
		}
		for j := range r.Conditions {
			if r.Conditions[j].Name == "" {
				r.Conditions[j].Name = r.Conditions[j].Aggregate
			}
		}
		if r.Sequence != nil && r.Sequence.Hold == 0 {
			r.Sequence.Hold = r.Sequence.Within
		}
	}
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	fieldRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// Reserved labels the job sets itself.
var reservedLabels = map[string]bool{"alertname": true, "severity": true, "rule": true}

// Validate reports the first invalid field by its path, e.g.
// "rules[2] (FailedPayments).conditions[0].op: ...".
func (f *File) Validate() error {
	s := f.Settings
	switch {
	case s.OutOfOrderness < 0:
		return errors.New("settings.out_of_orderness: must not be negative")
	case s.AllowedLateness < 0:
		return errors.New("settings.allowed_lateness: must not be negative")
	case s.IdleTimeout < 0:
		return errors.New("settings.idle_timeout: must not be negative")
	case s.MaxFuture < 0:
		return errors.New("settings.max_future: must not be negative")
	case s.MaxGroups < 1:
		return errors.New("settings.max_groups: must be positive")
	case s.IdleTimeout == 0:
		return errors.New("settings.idle_timeout: must be positive")
	}
	for k := range s.ExternalLabels {
		if !nameRE.MatchString(k) || reservedLabels[k] {
			return fmt.Errorf("settings.external_labels: %q is not a usable label name", k)
		}
	}
	for i, e := range s.Enrich {
		p := fmt.Sprintf("settings.enrich[%d]", i)
		for _, kv := range [][2]string{{"topic", e.Topic}, {"key", e.Key}, {"value", e.Value}, {"source", e.Source}, {"on", e.On}, {"as", e.As}} {
			if kv[1] == "" {
				return fmt.Errorf("%s.%s: required", p, kv[0])
			}
		}
	}
	if len(f.Rules) == 0 {
		return errors.New("rules: at least one rule is required")
	}
	seen := map[string]bool{}
	for i := range f.Rules {
		r := &f.Rules[i]
		p := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			p += " (" + r.Name + ")"
		}
		if err := r.validate(); err != nil {
			return fmt.Errorf("%s.%w", p, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("%s.name: duplicate rule name %q", p, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

func (r *Rule) validate() error {
	if !nameRE.MatchString(r.Name) {
		return fmt.Errorf("name: %q is not a valid alert name (letters, digits, _)", r.Name)
	}
	if r.Source == "" {
		return errors.New("source: required")
	}
	if err := validateMatches("filter", r.Filter); err != nil {
		return err
	}
	if len(r.GroupBy) == 0 {
		// A rule without groups is legal (one global counter) but a sequence
		// needs a key to relate its two records.
		if r.Sequence != nil {
			return errors.New("group_by: a sequence needs the key its records share")
		}
	}
	dup := map[string]bool{}
	for j, g := range r.GroupBy {
		if !fieldRE.MatchString(g) {
			return fmt.Errorf("group_by[%d]: %q is not a field name", j, g)
		}
		if reservedLabels[g] {
			return fmt.Errorf("group_by[%d]: %q is a reserved label", j, g)
		}
		if dup[g] {
			return fmt.Errorf("group_by[%d]: %q listed twice", j, g)
		}
		dup[g] = true
	}
	if !contains(Severities, r.Severity) {
		return fmt.Errorf("severity: want one of %s, got %q", strings.Join(Severities, ", "), r.Severity)
	}
	if r.For < 0 {
		return errors.New("for: must not be negative")
	}
	if r.KeepFiringFor < 0 {
		return errors.New("keep_firing_for: must not be negative")
	}
	for k := range r.Labels {
		if !nameRE.MatchString(k) || reservedLabels[k] || dup[k] {
			return fmt.Errorf("labels: %q is not a usable label name (reserved or a group_by field)", k)
		}
	}
	switch {
	case r.Sequence != nil && (r.Window != nil || len(r.Conditions) > 0):
		return errors.New("sequence: a rule is either a sequence or a window rule with conditions, not both")
	case r.Sequence != nil:
		if err := r.Sequence.validate(); err != nil {
			return fmt.Errorf("sequence.%w", err)
		}
		if r.For != 0 {
			return errors.New("for: not supported on sequence rules")
		}
		if r.KeepFiringFor != 0 {
			return errors.New("keep_firing_for: not supported on sequence rules (use sequence.hold)")
		}
	default:
		if r.Window == nil {
			return errors.New("window: required (or sequence)")
		}
		if err := r.Window.validate(); err != nil {
			return fmt.Errorf("window.%w", err)
		}
		if len(r.Conditions) == 0 {
			return errors.New("conditions: at least one is required")
		}
		names := map[string]bool{}
		for j := range r.Conditions {
			c := &r.Conditions[j]
			if err := c.validate(); err != nil {
				return fmt.Errorf("conditions[%d].%w", j, err)
			}
			if names[c.Name] {
				return fmt.Errorf("conditions[%d].name: %q used twice; name the conditions", j, c.Name)
			}
			names[c.Name] = true
		}
		if r.For > 0 && time.Duration(r.For)%time.Duration(r.Window.Slide) != 0 {
			return fmt.Errorf("for: %s is not a multiple of the window slide %s", r.For, r.Window.Slide)
		}
		if r.KeepFiringFor > 0 && time.Duration(r.KeepFiringFor)%time.Duration(r.Window.Slide) != 0 {
			return fmt.Errorf("keep_firing_for: %s is not a multiple of the window slide %s", r.KeepFiringFor, r.Window.Slide)
		}
	}
	for k, v := range r.Annotations {
		if !nameRE.MatchString(k) {
			return fmt.Errorf("annotations: %q is not a valid annotation name", k)
		}
		if _, err := r.Render(v, sampleData(r)); err != nil {
			return fmt.Errorf("annotations.%s: %w", k, err)
		}
	}
	return nil
}

func (w *Window) validate() error {
	switch {
	case w.Size <= 0:
		return errors.New("size: must be positive")
	case w.Slide <= 0:
		return errors.New("slide: must be positive")
	case w.Slide > w.Size:
		return fmt.Errorf("slide: %s is longer than the size %s", w.Slide, w.Size)
	case time.Duration(w.Size)%time.Duration(w.Slide) != 0:
		return fmt.Errorf("size: %s is not a multiple of the slide %s", w.Size, w.Slide)
	case time.Duration(w.Slide)%time.Millisecond != 0:
		return fmt.Errorf("slide: %s is finer than a millisecond", w.Slide)
	case w.Size/w.Slide > 1440:
		return errors.New("size: more than 1440 slides per window")
	}
	return nil
}

func (s *Sequence) validate() error {
	if len(s.First) == 0 {
		return errors.New("first: at least one match is required")
	}
	if len(s.Then) == 0 {
		return errors.New("then: at least one match is required")
	}
	if err := validateMatches("first", s.First); err != nil {
		return err
	}
	if err := validateMatches("then", s.Then); err != nil {
		return err
	}
	if s.Within <= 0 {
		return errors.New("within: must be positive")
	}
	if s.Hold < 0 {
		return errors.New("hold: must not be negative")
	}
	for j, f := range s.Same {
		if !fieldRE.MatchString(f) {
			return fmt.Errorf("same[%d]: %q is not a field name", j, f)
		}
	}
	return nil
}

var ops = []string{">", ">=", "<", "<="}

func (c *Condition) validate() error {
	needsField := map[string]bool{CountDistinct: true, Sum: true, Percentile: true}
	switch c.Aggregate {
	case Count, CountDistinct, Sum, Ratio, Percentile:
	default:
		return fmt.Errorf("aggregate: want count, count_distinct, sum, ratio or percentile, got %q", c.Aggregate)
	}
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("name: %q is not a valid name", c.Name)
	}
	if needsField[c.Aggregate] && !fieldRE.MatchString(c.Field) {
		return fmt.Errorf("field: %s needs a field name, got %q", c.Aggregate, c.Field)
	}
	if !needsField[c.Aggregate] && c.Field != "" {
		return fmt.Errorf("field: %s takes no field", c.Aggregate)
	}
	if c.Aggregate == Ratio {
		if len(c.Where) == 0 {
			return errors.New("where: ratio needs the numerator's filter")
		}
		if err := validateMatches("where", c.Where); err != nil {
			return err
		}
	} else if len(c.Where) > 0 {
		return errors.New("where: only ratio takes a numerator filter")
	}
	if c.Aggregate == Percentile {
		if !(c.Q > 0 && c.Q < 1) {
			return fmt.Errorf("q: want a quantile in (0, 1), got %v", c.Q)
		}
	} else if c.Q != 0 {
		return errors.New("q: only percentile takes a quantile")
	}
	if !contains(ops, c.Op) {
		return fmt.Errorf("op: want one of %s, got %q", strings.Join(ops, " "), c.Op)
	}
	switch {
	case c.Value == nil && c.Baseline == nil:
		return errors.New("value: a threshold value or a baseline is required")
	case c.Value != nil && c.Baseline != nil:
		return errors.New("baseline: give a threshold value or a baseline, not both")
	case c.Value != nil && (math.IsNaN(*c.Value) || math.IsInf(*c.Value, 0)):
		return errors.New("value: must be a finite number")
	case c.Baseline != nil && !(c.Baseline.Factor > 0):
		return errors.New("baseline.factor: must be positive")
	case c.Baseline != nil && (c.Baseline.Windows < 1 || c.Baseline.Windows > 1000):
		return errors.New("baseline.windows: want 1 to 1000")
	case c.Baseline != nil && c.Baseline.Stat != "" && c.Baseline.Stat != Mean && c.Baseline.Stat != Median:
		return fmt.Errorf("baseline.stat: want mean or median, got %q", c.Baseline.Stat)
	case c.Baseline != nil && c.Baseline.Lag < 0:
		return errors.New("baseline.lag: must not be negative")
	case c.Baseline != nil && c.Baseline.Lag > Duration(MaxBaselineLag):
		return fmt.Errorf("baseline.lag: at most %s", MaxBaselineLag)
	case c.Baseline != nil && (c.Baseline.Min < 0 || math.IsNaN(c.Baseline.Min) || math.IsInf(c.Baseline.Min, 0)):
		return errors.New("baseline.min: must be a finite number ≥ 0")
	case c.Baseline != nil && (c.Baseline.ResolveFactor < 0 || math.IsNaN(c.Baseline.ResolveFactor)):
		return errors.New("baseline.resolve_factor: must be positive")
	case c.Resolve != nil && c.Value == nil:
		return errors.New("resolve: only with a threshold value (a baseline takes baseline.resolve_factor)")
	case c.Resolve != nil && (math.IsNaN(*c.Resolve) || math.IsInf(*c.Resolve, 0)):
		return errors.New("resolve: must be a finite number")
	case c.Significance < 0 || c.Significance >= 1 || math.IsNaN(c.Significance):
		return fmt.Errorf("significance: want a p-value in (0, 1), got %v", c.Significance)
	case c.Significance > 0 && c.Baseline == nil:
		return errors.New("significance: needs a baseline (the usual level it tests against)")
	case c.Significance > 0 && c.Aggregate != Count && c.Aggregate != Ratio && c.Aggregate != Percentile:
		return fmt.Errorf("significance: only on count, ratio or percentile, not %s", c.Aggregate)
	case c.Significance > 0 && c.Op != ">" && c.Op != ">=":
		return errors.New("significance: only with op > or >= (an excess is tested)")
	}
	return nil
}

func validateMatches(path string, ms []Match) error {
	for i, m := range ms {
		if !fieldRE.MatchString(m.Field) {
			return fmt.Errorf("%s[%d].field: %q is not a field name", path, i, m.Field)
		}
		n := 0
		for _, set := range []bool{m.Eq != nil, m.Ne != nil, m.In != nil, m.NotIn != nil, m.Gt != nil, m.Ge != nil, m.Lt != nil, m.Le != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s[%d]: want exactly one of eq, ne, in, not_in, gt, ge, lt, le; got %d", path, i, n)
		}
		if m.In != nil && len(m.In) == 0 || m.NotIn != nil && len(m.NotIn) == 0 {
			return fmt.Errorf("%s[%d]: an empty list matches nothing", path, i)
		}
	}
	return nil
}

// TemplateData is what annotation templates see.
type TemplateData struct {
	Labels map[string]string
	Values map[string]float64
	Window string // e.g. "5m0s"
}

// Render executes one annotation template; a reference to a missing label or
// value is an error (caught at load time against sample data).
func (r *Rule) Render(text string, data TemplateData) (string, error) {
	t, err := template.New("annotation").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parse template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("execute template: %w", err)
	}
	return b.String(), nil
}

func sampleData(r *Rule) TemplateData {
	d := TemplateData{Labels: map[string]string{}, Values: map[string]float64{}, Window: "1m0s"}
	for _, g := range r.GroupBy {
		d.Labels[g] = "x"
	}
	for k := range r.Labels {
		d.Labels[k] = "x"
	}
	for _, c := range r.Conditions {
		d.Values[c.Name] = 1
		if c.Baseline != nil {
			d.Values[c.Name+"_baseline"] = 1
		}
		if c.Significance > 0 {
			d.Values[c.Name+"_pvalue"] = 1
		}
	}
	return d
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Duration is a time.Duration written as "90s", "5m", "1h30m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration like 5m: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as "5m0s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
