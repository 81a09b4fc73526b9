package gold

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"weir/trino"
)

// StateTable is the gold table where Refresh records, per rollup, source
// and day, the record count it last built from.
const StateTable = "rollup_state"

// dayCounts is the number of records per UTC day (YYYY-MM-DD) of each
// source table ("silver.events" → day → count).
type dayCounts map[string]map[string]int64

// Refresh brings every rollup up to date incrementally: it compares each
// source's record count per day (from the Iceberg $partitions metadata,
// so it reads no data) with the counts of the last refresh, and recomputes
// only the days that changed, late events included, with one MERGE per
// rollup, so readers never see a day half refreshed. Rollup groups must
// not span days, and key columns must be non-null. A rollup whose table is
// missing or whose definition changed is rebuilt in full. Days that
// disappear from a source (moved to the archive) keep their rollup rows.
func (r *Runner) Refresh(ctx context.Context, defs []*Definition) ([]Result, error) {
	ex, err := r.inspect(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.ensureState(ctx); err != nil {
		return nil, err
	}
	var results []Result
	var errs []error
	for _, d := range defs {
		if d.Kind != KindRollup {
			continue
		}
		start := time.Now()
		res, err := r.refreshOne(ctx, d, ex)
		res.Name, res.Kind, res.Duration = d.Name, KindRollup, time.Since(start)
		if err != nil {
			res.Change, res.Reason = Failed, firstLine(err.Error())
			errs = append(errs, fmt.Errorf("refresh gold.%s: %w", d.Name, err))
		}
		r.log().Info("gold refresh", "name", d.Name, "change", res.Change, "days", res.Days, "reason", res.Reason, "took", res.Duration.Round(time.Millisecond))
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

func (r *Runner) refreshOne(ctx context.Context, d *Definition, ex *existing) (Result, error) {
	fp := Fingerprint(r.Target.physical(d.SQL) + "|" + strings.Join(d.Key, ",") + "|" + strings.Join(d.Partitioning, ","))
	c, ok := ex.tables[d.Name]
	if !ok || fingerprintOf(c) != fp {
		change, reason := Created, "table missing"
		if ok {
			change, reason = Replaced, "definition changed"
		}
		days, err := r.build(ctx, d, fp)
		return Result{Change: change, Reason: reason, Days: days}, err
	}
	prev, err := r.loadState(ctx, d.Name, fp)
	if err != nil {
		return Result{}, err
	}
	cur, err := r.dayCounts(ctx, d)
	if err != nil {
		return Result{}, err
	}
	days := changedDays(prev, cur)
	if d.WindowSize > 0 {
		days = withDaysBefore(days)
	}
	if len(days) == 0 {
		return Result{Change: Unchanged}, nil
	}
	if err := r.merge(ctx, d, days); err != nil {
		return Result{}, err
	}
	if err := r.saveState(ctx, d.Name, fp, cur); err != nil {
		return Result{}, err
	}
	return Result{Change: Refreshed, Days: len(days)}, nil
}

// build (re)creates the rollup table from all of its sources. Counts are
// read first, so rows committed during the build are recomputed by the
// next refresh rather than missed.
func (r *Runner) build(ctx context.Context, d *Definition, fp string) (int, error) {
	if err := r.ensureState(ctx); err != nil {
		return 0, err
	}
	counts, err := r.dayCounts(ctx, d)
	if err != nil {
		return 0, err
	}
	with := ""
	if len(d.Partitioning) > 0 {
		parts := make([]string, len(d.Partitioning))
		for i, p := range d.Partitioning {
			parts[i] = trino.String(p)
		}
		with = fmt.Sprintf(" WITH (partitioning = ARRAY[%s])", strings.Join(parts, ", "))
	}
	stmt := fmt.Sprintf("CREATE OR REPLACE TABLE %s COMMENT %s%s AS\n%s",
		r.qualified("gold", d.Name), trino.String(comment(d, fp)), with, r.Target.physical(d.SQL))
	if err := r.exec(ctx, stmt); err != nil {
		return 0, fmt.Errorf("build rollup: %w", err)
	}
	if err := r.saveState(ctx, d.Name, fp, counts); err != nil {
		return 0, err
	}
	return len(allDays(counts)), nil
}

// changedDays lists, sorted, the days whose count differs in any source;
// days absent from cur (archived) are not changes.
func changedDays(prev, cur dayCounts) []string {
	set := map[string]bool{}
	for src, days := range cur {
		for day, n := range days {
			if prev[src][day] != n {
				set[day] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func allDays(c dayCounts) []string {
	set := map[string]bool{}
	for _, days := range c {
		for day := range days {
			set[day] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// withDaysBefore adds to days the day before each: a window rollup's
// windows that start late on that day read the changed day's rows.
func withDaysBefore(days []string) []string {
	set := map[string]bool{}
	for _, day := range days {
		set[day] = true
		if t, err := time.Parse(time.DateOnly, day); err == nil {
			set[t.AddDate(0, 0, -1).Format(time.DateOnly)] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// merge recomputes the given days of d with every source restricted to
// them, and merges the result on d's key. A window rollup (@window) reads
// its sources up to the window size past each range of days, so a window
// that starts before midnight sees its whole extent, and merges only the
// windows that start in the days.
func (r *Runner) merge(ctx context.Context, d *Definition, days []string) error {
	cols, err := r.columns(ctx, d.Name)
	if err != nil {
		return err
	}
	filter := dayFilterPast(trino.Ident(d.TimeColumn), days, d.WindowSize)
	subs := map[string]string{}
	for _, src := range d.Sources {
		schema, name, _ := strings.Cut(src, ".")
		phys := r.Target.schema(schema) + "." + name
		subs[strings.ToLower(phys)] = fmt.Sprintf("SELECT * FROM %s.%s WHERE %s", trino.Ident(r.Target.schema(schema)), trino.Ident(name), filter)
	}
	query := replaceTables(r.Target.physical(d.SQL), subs)
	if d.WindowColumn != "" {
		query = fmt.Sprintf("SELECT * FROM (\n%s\n) WHERE %s", query, dayFilter(trino.Ident(d.WindowColumn), days))
	}
	isKey := map[string]bool{}
	var on []string
	for _, k := range d.Key {
		isKey[strings.ToLower(k)] = true
		on = append(on, fmt.Sprintf("t.%s = s.%s", trino.Ident(k), trino.Ident(k)))
	}
	var set, names, vals []string
	for _, c := range cols {
		q := trino.Ident(c)
		names = append(names, q)
		vals = append(vals, "s."+q)
		if !isKey[c] {
			set = append(set, fmt.Sprintf("%s = s.%s", q, q))
		}
	}
	stmt := fmt.Sprintf("MERGE INTO %s t USING (\n%s\n) s\nON %s\n", r.qualified("gold", d.Name), query, strings.Join(on, " AND "))
	if len(set) > 0 {
		stmt += "WHEN MATCHED THEN UPDATE SET " + strings.Join(set, ", ") + "\n"
	}
	stmt += fmt.Sprintf("WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)", strings.Join(names, ", "), strings.Join(vals, ", "))
	if err := r.exec(ctx, stmt); err != nil {
		return fmt.Errorf("merge %d days: %w", len(days), err)
	}
	return nil
}

// dayFilter is a predicate selecting the UTC days, as few ranges as the
// days allow so Iceberg prunes partitions.
func dayFilter(col string, days []string) string { return dayFilterPast(col, days, 0) }

// dayFilterPast is dayFilter with each range extended by past after its
// last day.
func dayFilterPast(col string, days []string, past time.Duration) string {
	var ranges []string
	for i := 0; i < len(days); {
		start, _ := time.Parse(time.DateOnly, days[i])
		end := start.AddDate(0, 0, 1)
		j := i + 1
		for ; j < len(days); j++ {
			next, _ := time.Parse(time.DateOnly, days[j])
			if !next.Equal(end) {
				break
			}
			end = end.AddDate(0, 0, 1)
		}
		upper := fmt.Sprintf("TIMESTAMP '%s 00:00:00 UTC'", end.Format(time.DateOnly))
		if past > 0 {
			upper = fmt.Sprintf("%s + INTERVAL '%d' SECOND", upper, int64(past.Round(time.Second)/time.Second))
		}
		ranges = append(ranges, fmt.Sprintf("(%s >= TIMESTAMP '%s 00:00:00 UTC' AND %s < %s)",
			col, start.Format(time.DateOnly), col, upper))
		i = j
	}
	return "(" + strings.Join(ranges, " OR ") + ")"
}

func (r *Runner) columns(ctx context.Context, table string) ([]string, error) {
	cols, err := trino.Strings(ctx, r.DB, fmt.Sprintf(
		"SELECT column_name FROM %s.information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
		trino.Ident(r.Target.Catalog), trino.String(r.Target.schema("gold")), trino.String(table)))
	if err != nil {
		return nil, fmt.Errorf("read columns of gold.%s: %w", table, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("read columns of gold.%s: no columns", table)
	}
	return cols, nil
}

// dayCounts reads the record count per day of every source of d: from
// $partitions when the source is a day-partitioned table, else by counting.
func (r *Runner) dayCounts(ctx context.Context, d *Definition) (dayCounts, error) {
	out := dayCounts{}
	for _, src := range d.Sources {
		schema, name, _ := strings.Cut(src, ".")
		counts, err := r.partitionDays(ctx, schema, name)
		if err != nil {
			counts, err = r.countDays(ctx, schema, name, d.TimeColumn)
		}
		if err != nil {
			return nil, fmt.Errorf("count days of %s: %w", src, err)
		}
		out[src] = counts
	}
	return out, nil
}

func (r *Runner) partitionDays(ctx context.Context, schema, name string) (map[string]int64, error) {
	out := map[string]int64{}
	err := trino.Each(ctx, r.DB, fmt.Sprintf(
		`SELECT json_format(CAST(partition AS JSON)), record_count FROM %s`,
		trino.Qualified(r.Target.Catalog, r.Target.schema(schema), name+"$partitions")), func(row trino.Scanner) error {
		var part string
		var n int64
		if err := row.Scan(&part, &n); err != nil {
			return err
		}
		day, ok := partitionDay(part)
		if !ok {
			return fmt.Errorf("partition %s has no day", part)
		}
		out[day] += n
		return nil
	})
	return out, err
}

// partitionDay finds the day in a partition tuple rendered as JSON: the
// first value that starts with a date (day or hour transforms of event
// time). A null day (rows without event time) is "".
func partitionDay(part string) (string, bool) {
	var fields map[string]any
	if err := json.Unmarshal([]byte(part), &fields); err != nil {
		return "", false
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		s, ok := fields[k].(string)
		if !ok || len(s) < 10 {
			continue
		}
		if _, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return s[:10], true
		}
	}
	return "", false
}

func (r *Runner) countDays(ctx context.Context, schema, name, timeCol string) (map[string]int64, error) {
	col := trino.Ident(timeCol)
	out := map[string]int64{}
	err := trino.Each(ctx, r.DB, fmt.Sprintf(
		`SELECT CAST(date(%s AT TIME ZONE 'UTC') AS varchar), count(*) FROM %s WHERE %s IS NOT NULL GROUP BY 1`,
		col, trino.Qualified(r.Target.Catalog, r.Target.schema(schema), name), col), func(row trino.Scanner) error {
		var day string
		var n int64
		if err := row.Scan(&day, &n); err != nil {
			return err
		}
		out[day] = n
		return nil
	})
	return out, err
}

func (r *Runner) ensureState(ctx context.Context) error {
	err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  rollup_name varchar, fingerprint varchar, source varchar, day date, record_count bigint,
  refreshed_at timestamp(6) with time zone)
COMMENT 'per rollup, source and day: the record count the rollup was last built from (weir gold refresh)'`,
		r.qualified("gold", StateTable)))
	if err != nil {
		return fmt.Errorf("create %s: %w", StateTable, err)
	}
	return nil
}

func (r *Runner) loadState(ctx context.Context, rollup, fp string) (dayCounts, error) {
	out := dayCounts{}
	err := trino.Each(ctx, r.DB, fmt.Sprintf(
		"SELECT source, CAST(day AS varchar), record_count FROM %s WHERE rollup_name = %s AND fingerprint = %s AND day IS NOT NULL",
		r.qualified("gold", StateTable), trino.String(rollup), trino.String(fp)), func(row trino.Scanner) error {
		var src, day string
		var n int64
		if err := row.Scan(&src, &day, &n); err != nil {
			return err
		}
		if out[src] == nil {
			out[src] = map[string]int64{}
		}
		out[src][day] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load rollup state: %w", err)
	}
	return out, nil
}

// saveState replaces the rollup's state rows; a crash between the two
// statements leaves no state, which makes the next refresh rebuild the
// days it finds, never skip them.
func (r *Runner) saveState(ctx context.Context, rollup, fp string, counts dayCounts) error {
	table := r.qualified("gold", StateTable)
	if err := r.exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE rollup_name = %s", table, trino.String(rollup))); err != nil {
		return fmt.Errorf("save rollup state: %w", err)
	}
	now := r.now().UTC().Format("2006-01-02 15:04:05.000000")
	var vals []string
	for _, src := range slices.Sorted(maps.Keys(counts)) {
		for _, day := range slices.Sorted(maps.Keys(counts[src])) {
			d := "NULL"
			if day != "" {
				d = "DATE " + trino.String(day)
			}
			vals = append(vals, fmt.Sprintf("(%s, %s, %s, %s, %d, TIMESTAMP '%s UTC')",
				trino.String(rollup), trino.String(fp), trino.String(src), d, counts[src][day], now))
		}
	}
	if len(vals) == 0 {
		// Remember the refresh even with empty sources.
		vals = append(vals, fmt.Sprintf("(%s, %s, NULL, NULL, 0, TIMESTAMP '%s UTC')", trino.String(rollup), trino.String(fp), now))
	}
	for len(vals) > 0 {
		n := min(len(vals), 500)
		if err := r.exec(ctx, fmt.Sprintf("INSERT INTO %s VALUES %s", table, strings.Join(vals[:n], ", "))); err != nil {
			return fmt.Errorf("save rollup state: %w", err)
		}
		vals = vals[n:]
	}
	return nil
}
