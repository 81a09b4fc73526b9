package gold

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
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
// only what changed, late events included, with one MERGE per rollup, so
// readers never see a slice half refreshed. A rollup with @slice recomputes
// only the slices of a changed day whose count changed (counted per minute
// of the changed days, one scan of the time column per source), else the
// whole day. Rollup groups must not span slices (days without @slice), and
// key columns must be non-null. A rollup whose table is missing or whose
// definition changed is rebuilt in full. Days that disappear from a source
// (moved to the archive) keep their rollup rows.
//
// Rollups are recomputed up to Parallel at a time, the smallest time range
// first, and the state of every rollup that succeeded is saved after its
// MERGE, in two statements for all: a crash before the save makes the next
// refresh recompute the same slices again, which gives the same rows.
// Then every snapshot table whose answer is older than its Every is taken
// again (refreshSnapshots).
func (r *Runner) Refresh(ctx context.Context, defs []*Definition) ([]Result, error) {
	if err := r.ensureState(ctx); err != nil {
		return nil, err
	}
	var jobs []*refreshJob
	for _, d := range defs {
		if d.Kind == KindRollup {
			jobs = append(jobs, &refreshJob{d: d, res: Result{Name: d.Name, Kind: KindRollup}})
		}
	}
	results, err := r.refreshRollups(ctx, jobs)
	snapshots, snapErr := r.refreshSnapshots(ctx, defs)
	return append(results, snapshots...), errors.Join(err, snapErr)
}

// refreshRollups runs the refresh of the rollups' jobs (Refresh).
func (r *Runner) refreshRollups(ctx context.Context, jobs []*refreshJob) ([]Result, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	if err := r.plan(ctx, jobs); err != nil {
		return nil, err
	}
	// Smallest time range first: the rollups of fresh dashboards, which
	// recompute a slice or two, do not wait behind whole days.
	order := slices.Clone(jobs)
	slices.SortStableFunc(order, func(a, b *refreshJob) int { return cmp.Compare(a.work(), b.work()) })
	work := make(chan *refreshJob)
	var wg sync.WaitGroup
	for range max(1, min(r.parallel(), len(order))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				r.runJob(ctx, j)
			}
		}()
	}
	for _, j := range order {
		work <- j
	}
	close(work)
	wg.Wait()

	var done []*refreshJob
	for _, j := range jobs {
		if j.err == nil && j.res.Change != Unchanged {
			done = append(done, j)
		}
	}
	if err := r.saveStates(ctx, done); err != nil {
		for _, j := range done {
			j.err = err
		}
	}
	var results []Result
	var errs []error
	for _, j := range jobs {
		if j.err != nil {
			j.res.Change, j.res.Reason = Failed, firstLine(j.err.Error())
			errs = append(errs, fmt.Errorf("refresh gold.%s: %w", j.d.Name, j.err))
		}
		r.log().Info("gold refresh", "name", j.d.Name, "change", j.res.Change, "days", j.res.Days, "slices", j.res.Slices,
			"reason", j.res.Reason, "took", j.res.Duration.Round(time.Millisecond))
		results = append(results, j.res)
	}
	return results, errors.Join(errs...)
}

// DefaultParallel is how many rollups Refresh recomputes at once when
// Runner.Parallel is 0.
const DefaultParallel = 3

func (r *Runner) parallel() int {
	if r.Parallel <= 0 {
		return DefaultParallel
	}
	return r.Parallel
}

// refreshJob is one rollup's part of a Refresh: what plan found to do, and
// how it went.
type refreshJob struct {
	d  *Definition
	fp string
	// build: (re)create the table from all sources.
	build bool
	// cur: the sources' day counts, read before the job's statement; days
	// the changed ones (saved with curSlices, their per-slice counts, for
	// a sliced rollup).
	cur       dayCounts
	curSlices sliceCounts
	days      []string
	// What the MERGE recomputes: whole days, or slices (sliced rollups).
	mergeDays   []string
	mergeSlices []time.Time
	cols        []string // the rollup table's columns, for the MERGE
	// partCol is the time key column the rollup is partitioned by
	// (day(hour): hour), partDate whether it is a date; "" when none
	// (Definition.timePartition).
	partCol  string
	partDate bool
	res      Result
	err      error
}

// work estimates the time range a job recomputes.
func (j *refreshJob) work() time.Duration {
	switch {
	case j.res.Change == Unchanged || j.err != nil:
		return 0
	case j.build:
		return math.MaxInt64
	case len(j.mergeSlices) > 0:
		return time.Duration(len(j.mergeSlices)) * j.d.slice()
	}
	return time.Duration(len(j.mergeDays)) * 24 * time.Hour
}

// plan reads the state of every rollup and the current counts of their
// sources (each source once) and decides, per rollup, what to recompute.
// Nothing is written.
func (r *Runner) plan(ctx context.Context, jobs []*refreshJob) error {
	// The reads are independent: all at once (each is small; under load
	// their latency, not their work, is what adds up).
	var (
		states   map[stateKey]rollupState
		cols     map[string][]column
		days     map[string]map[string]int64 // "source|time column" → day counts
		daysErr  map[string]error
		stateErr error
		colsErr  error
		names    []string
		keys     []string
	)
	for _, j := range jobs {
		names = append(names, j.d.Name)
		for _, src := range j.d.Sources {
			keys = append(keys, sourceColumn(src, j.d.TimeColumn))
		}
	}
	concurrently([]func(){
		func() { days, daysErr = r.sourcesDays(ctx, keys) },
		func() { states, stateErr = r.loadStates(ctx) },
		func() { cols, colsErr = r.tableColumns(ctx, names) },
	})
	if err := errors.Join(stateErr, colsErr); err != nil {
		return err
	}
	// The rollup tables that exist (they have columns) and the
	// fingerprints they were built from.
	comments, err := r.tableComments(ctx, slices.Sorted(maps.Keys(cols)))
	if err != nil {
		return err
	}
	for _, j := range jobs {
		d := j.d
		j.fp = r.Target.fingerprint(d)
		j.cur = dayCounts{}
		for _, src := range d.Sources {
			k := sourceColumn(src, d.TimeColumn)
			if daysErr[k] != nil {
				j.err = daysErr[k]
				break
			}
			j.cur[src] = days[k]
		}
		if j.err != nil {
			continue
		}
		_, ok := cols[d.Name]
		switch {
		case !ok:
			j.build, j.res.Change, j.res.Reason = true, Created, "table missing"
			continue
		case fingerprintOf(comments[d.Name]) != j.fp:
			j.build, j.res.Change, j.res.Reason = true, Replaced, "definition changed"
			continue
		}
		prev := states[stateKey{d.Name, j.fp}]
		j.days = changedDays(prev.days, j.cur)
		if len(j.days) == 0 {
			j.res.Change = Unchanged
			continue
		}
		j.res.Change = Refreshed
		if len(cols[d.Name]) == 0 {
			j.err = fmt.Errorf("read columns of gold.%s: no columns", d.Name)
			continue
		}
		for _, c := range cols[d.Name] {
			j.cols = append(j.cols, c.name)
		}
		j.partCol, j.partDate = d.timePartition(cols[d.Name])
		if d.Slice == 0 {
			j.mergeDays = j.days
			if d.WindowSize > 0 {
				j.mergeDays = withDaysBefore(j.days)
			}
			j.res.Days = len(j.mergeDays)
		}
	}
	r.countSlices(ctx, jobs, states)
	for _, j := range jobs {
		if j.err != nil || j.res.Change != Refreshed || j.d.Slice == 0 {
			continue
		}
		prev := states[stateKey{j.d.Name, j.fp}]
		j.mergeSlices = changedSlices(prev.slices, j.curSlices)
		if j.d.WindowSize > 0 {
			j.mergeSlices = withSlicesBefore(j.mergeSlices, j.d.Slice)
		}
		j.res.Slices = len(j.mergeSlices)
		j.res.Days = len(sliceDays(j.mergeSlices))
		if len(j.mergeSlices) == 0 {
			// The days' counts moved but no slice's did (rows the
			// partition metadata counts, such as deleted ones): only the
			// state changes.
			j.res.Days = 0
		}
	}
	return nil
}

// countSlices sets curSlices of the sliced rollups to refresh: their
// sources' changed days counted per minute (once per source for the days
// any rollup needs, then per rollup's slice). A day's minutes are counted
// from its tail, the newest slice the last refresh counted that day, not
// from midnight: sources grow at the end, and counting the whole of today
// again on every refresh costs more as the day fills. A day that grew
// before its tail (a late record) is counted again in full (tailSlices).
func (r *Runner) countSlices(ctx context.Context, jobs []*refreshJob, states map[stateKey]rollupState) {
	var sliced []*refreshJob
	for _, j := range jobs {
		if j.err == nil && j.res.Change == Refreshed && j.d.Slice > 0 {
			sliced = append(sliced, j)
		}
	}
	// "source|time column" → day → the first minute to count (Unix s).
	from := map[string]map[string]int64{}
	for _, j := range sliced {
		prev := states[stateKey{j.d.Name, j.fp}]
		for _, src := range j.d.Sources {
			k := sourceColumn(src, j.d.TimeColumn)
			if from[k] == nil {
				from[k] = map[string]int64{}
			}
			for _, day := range j.days {
				t := tailStart(prev.slices[src], day)
				if f, ok := from[k][day]; !ok || t < f {
					from[k][day] = t
				}
			}
		}
	}
	minutes := map[string]map[int64]int64{}
	errs := map[string]error{}
	count := func(from map[string]map[string]int64) {
		got, err := r.minuteCounts(ctx, from)
		for k := range from {
			if minutes[k] == nil {
				minutes[k] = map[int64]int64{}
			}
			maps.Copy(minutes[k], got[k])
			errs[k] = errors.Join(errs[k], err)
		}
	}
	// slicesOf is a rollup's slice counts from the minutes counted so far;
	// it adds to full the days of its sources whose tail did not hold
	// their growth (to count from midnight).
	full := map[string]map[string]int64{}
	slicesOf := func(j *refreshJob) sliceCounts {
		prev := states[stateKey{j.d.Name, j.fp}]
		out := sliceCounts{}
		for _, src := range j.d.Sources {
			k := sourceColumn(src, j.d.TimeColumn)
			out[src] = map[int64]int64{}
			for _, day := range j.days {
				start := tailStart(prev.slices[src], day)
				if _, ok := full[k][day]; ok {
					start = dayStart(day)
				}
				got, ok := tailSlices(prev.slices[src], prev.days[src][day], j.cur[src][day], minutes[k], day, start, j.d.Slice)
				if !ok {
					if full[k] == nil {
						full[k] = map[string]int64{}
					}
					full[k][day] = dayStart(day)
					continue
				}
				maps.Copy(out[src], got)
			}
		}
		return out
	}
	count(from)
	for _, j := range sliced {
		slicesOf(j)
	}
	if len(full) > 0 {
		count(full)
	}
	for _, j := range sliced {
		for _, src := range j.d.Sources {
			if err := errs[sourceColumn(src, j.d.TimeColumn)]; err != nil && j.err == nil {
				j.err = err
			}
		}
		if j.err == nil {
			j.curSlices = slicesOf(j)
		}
	}
}

// sourceColumn keys a source's counts by the time column they are counted
// on ("silver.events|event_ts"): rollups share them per source and column.
func sourceColumn(src, col string) string { return src + "|" + col }

// dayStart is the start of a UTC day (YYYY-MM-DD), Unix seconds.
func dayStart(day string) int64 {
	t, _ := time.Parse(time.DateOnly, day)
	return t.Unix()
}

// tailStart is where a day's minutes are counted from: the newest slice
// the last refresh counted that day (prev: slice start → records), or
// midnight when it counted none.
func tailStart(prev map[int64]int64, day string) int64 {
	start := dayStart(day)
	out := start
	for s := range prev {
		if s >= start && s < start+86400 && s > out {
			out = s
		}
	}
	return out
}

// tailSlices is one source's slice counts of a day from the previous
// counts of its slices before start and the minutes counted from start
// (minute start → records; start is midnight or a slice start). ok is
// false when the day grew before start: its record count in the
// partition metadata moved (prevDay → curDay) by other than the counts
// from start did, so a late record, a delete or a rewrite landed before
// start, and the day must be counted from midnight.
func tailSlices(prev map[int64]int64, prevDay, curDay int64, minutes map[int64]int64, day string, start int64, size time.Duration) (map[int64]int64, bool) {
	midnight := dayStart(day)
	step := int64(size / time.Second)
	out := map[int64]int64{}
	var prevTail, curTail int64
	for s, n := range prev {
		switch {
		case s < midnight || s >= midnight+86400:
		case s < start:
			out[s] = n
		default:
			prevTail += n
		}
	}
	for m, n := range minutes {
		if m >= start && m < midnight+86400 {
			out[m-m%step] += n
			curTail += n
		}
	}
	if start > midnight && curDay-prevDay != curTail-prevTail {
		return nil, false
	}
	return out, true
}

// concurrently runs fns at once and waits for them.
func concurrently(fns []func()) {
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn()
		}()
	}
	wg.Wait()
}

// runJob runs one job's statement (build or MERGE) and times it.
func (r *Runner) runJob(ctx context.Context, j *refreshJob) {
	if j.err != nil || j.res.Change == Unchanged {
		return
	}
	start := time.Now()
	defer func() { j.res.Duration = time.Since(start) }()
	switch {
	case j.build:
		if err := r.create(ctx, j.d, j.fp); err != nil {
			j.err = err
			return
		}
		j.res.Days = len(allDays(j.cur))
	case len(j.mergeSlices) > 0:
		j.err = r.merge(ctx, j.d, j.cols, sliceFilter(trino.Ident(j.d.TimeColumn), j.mergeSlices, j.d.Slice, j.d.WindowSize),
			sliceFilter(trino.Ident(j.d.WindowColumn), j.mergeSlices, j.d.Slice, 0), j.targetFilter(), fmt.Sprintf("%d slices", len(j.mergeSlices)))
	case len(j.mergeDays) > 0:
		j.err = r.merge(ctx, j.d, j.cols, dayFilterPast(trino.Ident(j.d.TimeColumn), j.mergeDays, j.d.WindowSize),
			dayFilter(trino.Ident(j.d.WindowColumn), j.mergeDays), j.targetFilter(), fmt.Sprintf("%d days", len(j.mergeDays)))
	}
}

// targetFilter is the predicate on the rollup's rows (alias t) a MERGE of
// the job's days or slices can touch: its partition column within them,
// so Trino reads those partitions of the rollup instead of all of it
// (which grows with history). Every row of a rollup is keyed by a
// truncation of its time column, or by its window start, to the partition
// column, so a recomputed row never falls outside and never misses the row
// it replaces (TestGoldAgainstGenerator's late batch would count twice).
// "" (the whole rollup) when it is unpartitioned, or a window rollup
// partitioned by other than its window column.
func (j *refreshJob) targetFilter() string {
	if j.partCol == "" || (j.d.WindowColumn != "" && j.partCol != j.d.WindowColumn) {
		return ""
	}
	col := "t." + trino.Ident(j.partCol)
	switch {
	case len(j.mergeSlices) > 0 && !j.partDate:
		return sliceFilter(col, j.mergeSlices, j.d.Slice, 0)
	case len(j.mergeSlices) > 0:
		return ""
	case j.partDate:
		return dayRanges(col, j.mergeDays, 0, dateLiteral)
	}
	return dayFilter(col, j.mergeDays)
}

// build (re)creates the rollup table from all of its sources and saves
// its state (Apply). Counts are read first, so rows committed during the
// build are recomputed by the next refresh rather than missed.
func (r *Runner) build(ctx context.Context, d *Definition, fp string) (int, error) {
	if err := r.ensureState(ctx); err != nil {
		return 0, err
	}
	counts, err := r.dayCounts(ctx, d)
	if err != nil {
		return 0, err
	}
	if err := r.create(ctx, d, fp); err != nil {
		return 0, err
	}
	j := &refreshJob{d: d, fp: fp, build: true, cur: counts}
	if err := r.saveStates(ctx, []*refreshJob{j}); err != nil {
		return 0, err
	}
	return len(allDays(counts)), nil
}

// create runs the CREATE OR REPLACE TABLE ... AS of a rollup or a snapshot.
func (r *Runner) create(ctx context.Context, d *Definition, fp string) error {
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
		return fmt.Errorf("build %s: %w", d.Kind, err)
	}
	return nil
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

// merge recomputes d with every source restricted by filter (of the time
// column: whole days or slices, a window rollup's up to its window size
// past them, so a window that starts before a boundary sees its whole
// extent), and merges the result on d's key; a window rollup merges only
// the windows that start in the days or slices (outFilter, of its window
// column). what names the range in errors.
func (r *Runner) merge(ctx context.Context, d *Definition, cols []string, filter, outFilter, target, what string) error {
	subs := map[string]string{}
	for _, src := range d.Sources {
		schema, name, _ := strings.Cut(src, ".")
		phys := r.Target.schema(schema) + "." + name
		subs[strings.ToLower(phys)] = fmt.Sprintf("SELECT * FROM %s.%s WHERE %s", trino.Ident(r.Target.schema(schema)), trino.Ident(name), filter)
	}
	query := replaceTables(r.Target.physical(d.SQL), subs)
	if d.WindowColumn != "" {
		query = fmt.Sprintf("SELECT * FROM (\n%s\n) WHERE %s", query, outFilter)
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
	if target != "" {
		on = append(on, target)
	}
	stmt := fmt.Sprintf("MERGE INTO %s t USING (\n%s\n) s\nON %s\n", r.qualified("gold", d.Name), query, strings.Join(on, " AND "))
	if len(set) > 0 {
		stmt += "WHEN MATCHED THEN UPDATE SET " + strings.Join(set, ", ") + "\n"
	}
	stmt += fmt.Sprintf("WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)", strings.Join(names, ", "), strings.Join(vals, ", "))
	if err := r.exec(ctx, stmt); err != nil {
		return fmt.Errorf("merge %s: %w", what, err)
	}
	return nil
}

// dayFilter is a predicate selecting the UTC days, as few ranges as the
// days allow so Iceberg prunes partitions.
func dayFilter(col string, days []string) string { return dayFilterPast(col, days, 0) }

// dayFilterPast is dayFilter with each range extended by past after its
// last day.
func dayFilterPast(col string, days []string, past time.Duration) string {
	return dayRanges(col, days, past, timestampLiteral)
}

// dateLiteral is t's UTC day as a Trino date literal.
func dateLiteral(t time.Time) string { return "DATE '" + t.UTC().Format(time.DateOnly) + "'" }

// dayRanges is dayFilterPast with the day boundaries written by lit (a
// timestamp literal for a timestamp column, a date one for a date).
func dayRanges(col string, days []string, past time.Duration, lit func(time.Time) string) string {
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
		upper := lit(end)
		if past > 0 {
			upper = fmt.Sprintf("%s + INTERVAL '%d' SECOND", upper, int64(past.Round(time.Second)/time.Second))
		}
		ranges = append(ranges, fmt.Sprintf("(%s >= %s AND %s < %s)", col, lit(start), col, upper))
		i = j
	}
	return "(" + strings.Join(ranges, " OR ") + ")"
}

// column is a gold table's column: its name and Trino type.
type column struct{ name, typ string }

// tableColumns reads the columns of the gold tables, in order, in one query.
func (r *Runner) tableColumns(ctx context.Context, tables []string) (map[string][]column, error) {
	out := map[string][]column{}
	in := make([]string, len(tables))
	for i, t := range tables {
		in[i] = trino.String(t)
	}
	err := trino.Each(ctx, r.DB, fmt.Sprintf(
		"SELECT table_name, column_name, data_type FROM %s.information_schema.columns WHERE table_schema = %s AND table_name IN (%s) ORDER BY table_name, ordinal_position",
		trino.Ident(r.Target.Catalog), trino.String(r.Target.schema("gold")), strings.Join(in, ", ")), func(row trino.Scanner) error {
		var table string
		var col column
		if err := row.Scan(&table, &col.name, &col.typ); err != nil {
			return err
		}
		out[table] = append(out[table], col)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read columns of the gold tables: %w", err)
	}
	return out, nil
}

// tableComments reads the comments of gold tables (name → comment; a
// table without one is absent) from their $properties, in one query. A
// refresh reads the rollups' comments this way, not with inspect:
// system.metadata.table_comments loads every object of the gold schema,
// views included, and cost seconds of Trino's time per refresh under load.
func (r *Runner) tableComments(ctx context.Context, tables []string) (map[string]string, error) {
	out := map[string]string{}
	if len(tables) == 0 {
		return out, nil
	}
	var parts []string
	for _, t := range tables {
		parts = append(parts, fmt.Sprintf("SELECT %s, value FROM %s WHERE key = 'comment'", trino.String(t), r.qualified("gold", t+"$properties")))
	}
	err := trino.Each(ctx, r.DB, strings.Join(parts, "\nUNION ALL "), func(row trino.Scanner) error {
		var table, c string
		if err := row.Scan(&table, &c); err != nil {
			return err
		}
		out[table] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read comments of the gold tables: %w", err)
	}
	return out, nil
}

// dayCounts reads the record count per day of every source of d.
func (r *Runner) dayCounts(ctx context.Context, d *Definition) (dayCounts, error) {
	var keys []string
	for _, src := range d.Sources {
		keys = append(keys, sourceColumn(src, d.TimeColumn))
	}
	days, errs := r.sourcesDays(ctx, keys)
	out := dayCounts{}
	for _, src := range d.Sources {
		k := sourceColumn(src, d.TimeColumn)
		if errs[k] != nil {
			return nil, errs[k]
		}
		out[src] = days[k]
	}
	return out, nil
}

// sourcesDays reads the record count per day of sources ("source|time
// column" keys, repeats allowed): of the day-partitioned ones from their
// $partitions, all in one query (each statement costs Trino more to
// analyse, plan and dispatch than these metadata reads cost to run); of
// the others by counting their time column. Errors are per key.
func (r *Runner) sourcesDays(ctx context.Context, keys []string) (map[string]map[string]int64, map[string]error) {
	var tables []string
	for _, k := range keys {
		src, _, _ := strings.Cut(k, "|")
		if !slices.Contains(tables, src) {
			tables = append(tables, src)
		}
	}
	parts, err := r.partitionDays(ctx, tables)
	if err != nil && len(tables) > 1 {
		// A table without partitions fails the whole read: each alone.
		parts = map[string]map[string]int64{}
		for _, t := range tables {
			if p, err := r.partitionDays(ctx, []string{t}); err == nil {
				maps.Copy(parts, p)
			}
		}
	}
	out, errs := map[string]map[string]int64{}, map[string]error{}
	for _, k := range keys {
		if _, ok := out[k]; ok {
			continue
		}
		src, col, _ := strings.Cut(k, "|")
		if counts, ok := parts[src]; ok {
			out[k] = counts
			continue
		}
		schema, name, _ := strings.Cut(src, ".")
		counts, err := r.countDays(ctx, schema, name, col)
		if err != nil {
			errs[k] = fmt.Errorf("count days of %s: %w", src, err)
		}
		out[k] = counts
	}
	return out, errs
}

// minuteCounts counts the rows of sources per minute (start, Unix
// seconds), for each "source|time column" key from the first minute given
// per day (day → Unix seconds) to the day's end: one scan of the time
// column of those days per source, all in one query.
func (r *Runner) minuteCounts(ctx context.Context, from map[string]map[string]int64) (map[string]map[int64]int64, error) {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(from)) {
		src, timeCol, _ := strings.Cut(k, "|")
		schema, name, _ := strings.Cut(src, ".")
		col := trino.Ident(timeCol)
		var ranges []string
		for _, day := range slices.Sorted(maps.Keys(from[k])) {
			end := time.Unix(dayStart(day), 0).UTC().AddDate(0, 0, 1)
			ranges = append(ranges, fmt.Sprintf("(%s >= %s AND %s < %s)", col, timestampLiteral(time.Unix(from[k][day], 0)), col, timestampLiteral(end)))
		}
		if len(ranges) == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("SELECT %s, CAST(floor(to_unixtime(%s) / 60) AS bigint) * 60, count(*) FROM %s WHERE %s GROUP BY 2",
			trino.String(k), col, trino.Qualified(r.Target.Catalog, r.Target.schema(schema), name), strings.Join(ranges, " OR ")))
	}
	out := map[string]map[int64]int64{}
	if len(parts) == 0 {
		return out, nil
	}
	err := trino.Each(ctx, r.DB, strings.Join(parts, "\nUNION ALL "), func(row trino.Scanner) error {
		var k string
		var m, n int64
		if err := row.Scan(&k, &m, &n); err != nil {
			return err
		}
		if out[k] == nil {
			out[k] = map[int64]int64{}
		}
		out[k][m] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count minutes of %s: %w", strings.Join(slices.Sorted(maps.Keys(from)), ", "), err)
	}
	return out, nil
}

// partitionDays reads the record count per day of tables ("silver.events")
// from their $partitions, in one query. A table whose partitions name no
// day is left out; an empty one has no days.
func (r *Runner) partitionDays(ctx context.Context, tables []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	var parts []string
	for _, t := range tables {
		out[t] = map[string]int64{}
		schema, name, _ := strings.Cut(t, ".")
		parts = append(parts, fmt.Sprintf("SELECT %s, json_format(CAST(partition AS JSON)), record_count FROM %s",
			trino.String(t), trino.Qualified(r.Target.Catalog, r.Target.schema(schema), name+"$partitions")))
	}
	if len(parts) == 0 {
		return out, nil
	}
	dayless := map[string]bool{}
	err := trino.Each(ctx, r.DB, strings.Join(parts, "\nUNION ALL "), func(row trino.Scanner) error {
		var t, part string
		var n int64
		if err := row.Scan(&t, &part, &n); err != nil {
			return err
		}
		day, ok := partitionDay(part)
		if !ok {
			dayless[t] = true
			return nil
		}
		if out[t] != nil {
			out[t][day] += n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read partitions of %s: %w", strings.Join(tables, ", "), err)
	}
	for t := range dayless {
		delete(out, t)
	}
	return out, nil
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

// ensureState creates the state table, or adds slice_start to one an
// older weir made, once per Runner (again after a failed state read).
func (r *Runner) ensureState(ctx context.Context) error {
	if r.stateReady.Load() {
		return nil
	}
	table := r.qualified("gold", StateTable)
	err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  rollup_name varchar, fingerprint varchar, source varchar, day date, record_count bigint,
  refreshed_at timestamp(6) with time zone, slice_start timestamp(6) with time zone)
COMMENT 'per rollup, source and day (slice_start null) or slice of a day: the record count the rollup was last built from (weir gold refresh)'`,
		table))
	if err == nil {
		err = r.exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS slice_start timestamp(6) with time zone", table))
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", StateTable, err)
	}
	r.stateReady.Store(true)
	return nil
}

// stateKey is a rollup and the fingerprint its state rows were saved with.
type stateKey struct{ rollup, fingerprint string }

// rollupState is what the last refresh of a rollup built from: the day
// counts of its sources, and, for a sliced rollup, the slice counts of
// the days it last refreshed.
type rollupState struct {
	days   dayCounts
	slices sliceCounts
}

// loadStates reads the state of every rollup, in one query.
func (r *Runner) loadStates(ctx context.Context) (map[stateKey]rollupState, error) {
	out := map[stateKey]rollupState{}
	err := trino.Each(ctx, r.DB, fmt.Sprintf(
		"SELECT rollup_name, fingerprint, source, CAST(day AS varchar), CAST(to_unixtime(slice_start) AS bigint), record_count FROM %s WHERE day IS NOT NULL",
		r.qualified("gold", StateTable)), func(row trino.Scanner) error {
		var k stateKey
		var src, day string
		var slice sql.NullInt64
		var n int64
		if err := row.Scan(&k.rollup, &k.fingerprint, &src, &day, &slice, &n); err != nil {
			return err
		}
		st, ok := out[k]
		if !ok {
			st = rollupState{days: dayCounts{}, slices: sliceCounts{}}
			out[k] = st
		}
		if slice.Valid {
			if st.slices[src] == nil {
				st.slices[src] = map[int64]int64{}
			}
			st.slices[src][slice.Int64] = n
			return nil
		}
		if st.days[src] == nil {
			st.days[src] = map[string]int64{}
		}
		st.days[src][day] = n
		return nil
	})
	if err != nil {
		// The table may have gone (a dropped schema): make it again next time.
		r.stateReady.Store(false)
		return nil, fmt.Errorf("load rollup state: %w", err)
	}
	return out, nil
}

// saveStates records, for every job, the counts it was built from: all of
// a built rollup's rows are replaced; a refreshed one's rows of its changed
// days (day counts, and slice counts of a sliced rollup). One DELETE and
// one INSERT (per 1000 rows) for all jobs; a crash between them leaves
// those rows missing, which makes the next refresh recompute the days it
// finds, never skip them.
func (r *Runner) saveStates(ctx context.Context, jobs []*refreshJob) error {
	if len(jobs) == 0 {
		return nil
	}
	table := r.qualified("gold", StateTable)
	now := "TIMESTAMP '" + r.now().UTC().Format("2006-01-02 15:04:05.000000") + " UTC'"
	var where, vals []string
	for _, j := range jobs {
		name := trino.String(j.d.Name)
		fp := trino.String(j.fp)
		row := func(src, day string, slice *time.Time, n int64) {
			d, s := "NULL", "NULL"
			if day != "" {
				d = "DATE " + trino.String(day)
			}
			if slice != nil {
				s = "TIMESTAMP '" + slice.UTC().Format("2006-01-02 15:04:05") + " UTC'"
			}
			vals = append(vals, fmt.Sprintf("(%s, %s, %s, %s, %d, %s, %s)", name, fp, trino.String(src), d, n, now, s))
		}
		if j.build {
			where = append(where, "rollup_name = "+name)
			for _, src := range slices.Sorted(maps.Keys(j.cur)) {
				for _, day := range slices.Sorted(maps.Keys(j.cur[src])) {
					row(src, day, nil, j.cur[src][day])
				}
			}
			if len(j.cur) == 0 || len(allDays(j.cur)) == 0 {
				// Remember the refresh even with empty sources.
				vals = append(vals, fmt.Sprintf("(%s, %s, NULL, NULL, 0, %s, NULL)", name, fp, now))
			}
			continue
		}
		dates := make([]string, len(j.days))
		for i, day := range j.days {
			dates[i] = "DATE " + trino.String(day)
		}
		// Rows of another fingerprint are stale: a refresh only runs on a
		// table of the current one.
		where = append(where, fmt.Sprintf("(rollup_name = %s AND (fingerprint <> %s OR day IN (%s)))", name, fp, strings.Join(dates, ", ")))
		for _, src := range slices.Sorted(maps.Keys(j.cur)) {
			for _, day := range j.days {
				if n, ok := j.cur[src][day]; ok {
					row(src, day, nil, n)
				}
			}
			for _, start := range slices.Sorted(maps.Keys(j.curSlices[src])) {
				t := time.Unix(start, 0).UTC()
				row(src, t.Format(time.DateOnly), &t, j.curSlices[src][start])
			}
		}
	}
	if err := r.exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s", table, strings.Join(where, " OR "))); err != nil {
		r.stateReady.Store(false)
		return fmt.Errorf("save rollup state: %w", err)
	}
	for len(vals) > 0 {
		n := min(len(vals), 1000)
		if err := r.exec(ctx, fmt.Sprintf("INSERT INTO %s (rollup_name, fingerprint, source, day, record_count, refreshed_at, slice_start) VALUES %s",
			table, strings.Join(vals[:n], ", "))); err != nil {
			return fmt.Errorf("save rollup state: %w", err)
		}
		vals = vals[n:]
	}
	return nil
}
