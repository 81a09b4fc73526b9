package gold

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"weir/trino"
)

// Maintained is a Change of Maintain: the table was compacted and its old
// snapshots and orphan files removed.
const Maintained Change = "maintained"

// DefaultRetention is how long Maintain keeps a gold table's old snapshots
// and unreferenced files: Trino's own minimum
// (iceberg.expire-snapshots.min-retention, iceberg.remove-orphan-files.min-retention).
const DefaultRetention = 7 * 24 * time.Hour

// Maintain keeps the gold tables weir writes through Trino small: every
// rollup and snapshot of defs, gold.rollup_state and gold.orders. Each refresh (every few
// seconds in follow mode) and each order marts run commits a MERGE, which
// adds small data and delete files; optimize rewrites a table's small files
// into few, its deletes applied, expire_snapshots drops the snapshots older
// than retention and remove_orphan_files the files no snapshot references
// that are older than it. Through Trino, as the tables were written (the
// Go jobs' maintenance, jobs/maintain, keeps bronze, silver and archive).
// A table's failure does not stop the others: the results come with a
// joined error. Result.Reason says the live data files before and after.
func (r *Runner) Maintain(ctx context.Context, defs []*Definition, retention time.Duration) ([]Result, error) {
	var tables []Result
	for _, name := range appliedTables {
		tables = append(tables, Result{Name: name, Kind: KindTable})
	}
	for _, d := range defs {
		if d.Kind == KindRollup || d.Kind == KindSnapshot {
			tables = append(tables, Result{Name: d.Name, Kind: d.Kind})
		}
	}
	threshold := trino.String(strconv.FormatFloat(retention.Hours(), 'f', -1, 64) + "h")
	var results []Result
	var errs []error
	for _, res := range tables {
		start := time.Now()
		res.Change = Maintained
		before, after, err := r.maintainTable(ctx, res.Name, threshold)
		res.Duration = time.Since(start)
		if err != nil {
			res.Change, res.Reason = Failed, err.Error()
			errs = append(errs, fmt.Errorf("maintain gold.%s: %w", res.Name, err))
		} else {
			res.Reason = fmt.Sprintf("%d files → %d", before, after)
		}
		r.log().Info("gold maintain", "name", res.Name, "change", res.Change, "reason", res.Reason, "took", res.Duration.Round(time.Millisecond))
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

// maintainTable runs the three procedures on one table (Apply created it)
// and counts its files (data and delete) before and after.
func (r *Runner) maintainTable(ctx context.Context, name, threshold string) (before, after int64, err error) {
	table := r.qualified("gold", name)
	files := func() (int64, error) {
		vals, err := trino.Strings(ctx, r.DB, fmt.Sprintf("SELECT count(*) FROM %s", r.qualified("gold", name+"$files")))
		if err != nil || len(vals) != 1 {
			return 0, fmt.Errorf("count files: %v (%v)", err, vals)
		}
		return strconv.ParseInt(vals[0], 10, 64)
	}
	if before, err = files(); err != nil {
		return 0, 0, err
	}
	for _, stmt := range []string{
		fmt.Sprintf("ALTER TABLE %s EXECUTE optimize", table),
		fmt.Sprintf("ALTER TABLE %s EXECUTE expire_snapshots(retention_threshold => %s)", table, threshold),
		fmt.Sprintf("ALTER TABLE %s EXECUTE remove_orphan_files(retention_threshold => %s)", table, threshold),
	} {
		if err := r.exec(ctx, stmt); err != nil {
			return before, 0, err
		}
	}
	after, err = files()
	return before, after, err
}
