package gold

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"weir/jobs/alerts/rules"
	"weir/trino"
)

// RuleRollup is a rollup generated from an alert rule: the windows in which
// the rule's firing condition holds, computed from silver the way the alert
// engine computes them from Kafka, so a gold anomaly view and its alert
// rule have one definition (the rule) and cannot drift apart. The
// committed sql/gold/rollups/Name.sql equals RuleRollupSQL of the rule in
// rules/alerts.yaml (TestRuleRollupsAreGenerated; -update rewrites it).
type RuleRollup struct {
	Name   string // rollup table in gold
	Rule   string // rule name in the rules file
	Source string // the silver table of the rule's source topic
	Header string // description lines of the file
}

// RuleRollups are the rollups generated from alert rules.
var RuleRollups = []RuleRollup{{
	Name:   "operation_bursts",
	Rule:   "UserRepeatingOperation",
	Source: "silver.events",
	Header: `Windows in which one user repeated one operation more often than the
UserRepeatingOperation alert rule allows, computed as the rule computes
them (its filter, group-by, sliding window and firing condition), under the
anomaly_operation_bursts view (DESIGN §5.9). Generated from rules/alerts.yaml
by jobs/gold (RuleRollupSQL): edit the rule, then
go test ./jobs/gold -run RuleRollups -update.
The rule's hysteresis (resolve) and keep_firing_for extend an alert past
these windows; its first firing window is always one of them.`,
}}

// RuleRollupSQL renders the rollup of r over source (a silver table whose
// columns are named as the rule's fields): one row per group and sliding
// window (start, end) whose records satisfy every condition, with each
// condition's value in a column named as the condition. It supports what
// SQL can state exactly: window rules whose filters compare fields with
// eq, ne, in, not_in or numbers, and whose conditions are count or
// count_distinct against a fixed value; anything else is an error.
//
// As in the engine, a missing group-by field is the empty string, a
// missing field satisfies ne and not_in only, windows are aligned to the
// epoch, and records dated in the future (is_future) are not evaluated.
func RuleRollupSQL(r *rules.Rule, source string) (string, error) {
	if r.Window == nil || r.Sequence != nil || len(r.Conditions) == 0 {
		return "", fmt.Errorf("rule %s: only window rules generate SQL", r.Name)
	}
	size, slide := r.Window.Size.D(), r.Window.Slide.D()
	if slide == 0 {
		slide = size
	}
	if size%time.Second != 0 || slide%time.Second != 0 || size%slide != 0 {
		return "", fmt.Errorf("rule %s: window %v/%v: want whole seconds, size a multiple of slide", r.Name, size, slide)
	}
	if len(r.GroupBy) == 0 {
		return "", fmt.Errorf("rule %s: no group_by", r.Name)
	}
	where := []string{"NOT is_future", "event_ts IS NOT NULL"}
	for _, m := range r.Filter {
		w, err := matchSQL(m)
		if err != nil {
			return "", fmt.Errorf("rule %s: %w", r.Name, err)
		}
		where = append(where, w)
	}
	var inner, groups, outer, having []string
	for _, g := range r.GroupBy {
		q := trino.Ident(g)
		inner = append(inner, fmt.Sprintf("coalesce(CAST(%s AS varchar), '') AS %s", q, q))
		groups = append(groups, q)
	}
	fields := map[string]bool{}
	for _, c := range r.Conditions {
		if c.Value == nil || c.Baseline != nil || c.Significance != 0 {
			return "", fmt.Errorf("rule %s: condition %s: only fixed values generate SQL", r.Name, c.Name)
		}
		var agg string
		switch c.Aggregate {
		case rules.Count:
			agg = "count(*)"
		case rules.CountDistinct:
			agg = fmt.Sprintf("count(DISTINCT %s)", trino.Ident(c.Field))
			if !fields[c.Field] {
				fields[c.Field] = true
				inner = append(inner, fmt.Sprintf("CAST(%s AS varchar) AS %s", trino.Ident(c.Field), trino.Ident(c.Field)))
			}
		default:
			return "", fmt.Errorf("rule %s: condition %s: aggregate %s does not generate SQL", r.Name, c.Name, c.Aggregate)
		}
		name := c.Name
		if name == "" {
			name = c.Aggregate
		}
		outer = append(outer, fmt.Sprintf("%s AS %s", agg, trino.Ident(name)))
		having = append(having, fmt.Sprintf("%s %s %s", agg, c.Op, strconv.FormatFloat(*c.Value, 'f', -1, 64)))
	}
	step := int64(slide / time.Second)
	panes := int64(size / slide)
	inner = append(inner, fmt.Sprintf("from_unixtime((floor(to_unixtime(event_ts) / %d) - k) * %d) AS window_start", step, step))
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s, window_start, window_start + INTERVAL '%d' SECOND AS window_end,\n       %s\n",
		strings.Join(groups, ", "), int64(size/time.Second), strings.Join(outer, ", "))
	fmt.Fprintf(&b, "FROM (\n  SELECT %s\n  FROM %s\n  CROSS JOIN UNNEST(sequence(0, %d)) AS w (k)\n  WHERE %s\n)\n",
		strings.Join(inner, ",\n         "), source, panes-1, strings.Join(where, "\n    AND "))
	fmt.Fprintf(&b, "GROUP BY %s, window_start\nHAVING %s", strings.Join(groups, ", "), strings.Join(having, " AND "))
	return b.String(), nil
}

// RuleRollupFile is the whole file of a rule rollup: the header, the
// directives (key: group-by and window start; the day of the window start
// partitions; a window reads its source up to its size past its day), and
// the query.
func RuleRollupFile(rr RuleRollup, r *rules.Rule) (string, error) {
	q, err := RuleRollupSQL(r, rr.Source)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, l := range strings.Split(rr.Header, "\n") {
		b.WriteString("-- " + l + "\n")
	}
	fmt.Fprintf(&b, "-- @key: %s, window_start\n", strings.Join(r.GroupBy, ", "))
	b.WriteString("-- @partitioning: day(window_start)\n")
	b.WriteString("-- @time: event_ts\n")
	fmt.Fprintf(&b, "-- @window: window_start, %s\n", r.Window.Size.D())
	// Refresh recomputes the changed slices and the one before each; a
	// window is at most a slice long.
	for _, s := range []time.Duration{15 * time.Minute, time.Hour} {
		if r.Window.Size.D() <= s {
			fmt.Fprintf(&b, "-- @slice: %s\n", strings.TrimSuffix(strings.TrimSuffix(s.String(), "0s"), "0m"))
			break
		}
	}
	b.WriteString(q + "\n")
	return b.String(), nil
}

func matchSQL(m rules.Match) (string, error) {
	col := trino.Ident(m.Field)
	str := "CAST(" + col + " AS varchar)"
	list := func(vs []string) string {
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = trino.String(v)
		}
		return strings.Join(q, ", ")
	}
	num := func(op string, v float64) string {
		return fmt.Sprintf("TRY_CAST(%s AS double) %s %s", col, op, strconv.FormatFloat(v, 'f', -1, 64))
	}
	switch {
	case m.Eq != nil:
		return fmt.Sprintf("%s = %s", str, trino.String(*m.Eq)), nil
	case m.Ne != nil:
		return fmt.Sprintf("(%s IS NULL OR %s <> %s)", col, str, trino.String(*m.Ne)), nil
	case m.In != nil:
		return fmt.Sprintf("%s IN (%s)", str, list(m.In)), nil
	case m.NotIn != nil:
		return fmt.Sprintf("(%s IS NULL OR %s NOT IN (%s))", col, str, list(m.NotIn)), nil
	case m.Gt != nil:
		return num(">", *m.Gt), nil
	case m.Ge != nil:
		return num(">=", *m.Ge), nil
	case m.Lt != nil:
		return num("<", *m.Lt), nil
	case m.Le != nil:
		return num("<=", *m.Le), nil
	}
	return "", fmt.Errorf("filter on %s: no operator", m.Field)
}
