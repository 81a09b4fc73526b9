package demo

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

// ArchiveTitle is the title of the demo's archive-move section.
const ArchiveTitle = "Archive tier · a move of the oldest day (rows per tier before → after; hot ∪ archive unchanged)"

// tierTables are the silver tables the move is shown for: those with a
// union view (gold.<table>_all) and a row in gold.data_span.
var tierTables = []string{"access_logs", "events", "logs", "metrics"}

// tierRows are one moment's rows per table: hot, archive, and through the
// table's union view.
type tierRows map[string]*struct{ hot, archive, all int64 }

// archiveMove runs weir batch archive with a hot window of the history's
// whole days, so the history's oldest (partial) day moves, and prints rows
// per tier before and after. Rows seen through the union views must not
// change: a move that loses or duplicates a row fails the demo.
func (d *Demo) archiveMove(ctx context.Context) error {
	hotDays := max(1, int(d.opts.History/(24*time.Hour)))
	var before, after tierRows
	days := "days"
	if hotDays == 1 {
		days = "day"
	}
	err := d.stage(fmt.Sprintf("move partitions older than %d %s to the archive tier (weir batch archive --hot-days %d)", hotDays, days, hotDays), func() error {
		var err error
		if before, err = d.tierRows(ctx); err != nil {
			return err
		}
		if err := d.run(ctx, "archive", "batch", "archive", "--hot-days", fmt.Sprint(hotDays)); err != nil {
			return err
		}
		if after, err = d.tierRows(ctx); err != nil {
			return err
		}
		for _, t := range tierTables {
			if before[t].all != after[t].all {
				return fmt.Errorf("gold.%s_all counts %d rows after the move, %d before", t, after[t].all, before[t].all)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.printf("\n── %s\n", ArchiveTitle)
	w := tabwriter.NewWriter(d.opts.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "   table\thot\tarchive\thot ∪ archive\t")
	for _, t := range tierTables {
		b, a := before[t], after[t]
		fmt.Fprintf(w, "   %s\t%d → %d\t%d → %d\t%d → %d\t\n", t, b.hot, a.hot, b.archive, a.archive, b.all, a.all)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if d.opts.ArchiveStorage != "" {
		d.printf("   archive tier: %s\n", d.opts.ArchiveStorage)
	}
	d.printf("   (gold.data_span and gold.pipeline_storage show the tiers; the *_all views read both)\n")
	return nil
}

// tierRows reads rows per tier from partition metadata (gold.data_span)
// and through each union view.
func (d *Demo) tierRows(ctx context.Context) (tierRows, error) {
	out := tierRows{}
	for _, t := range tierTables {
		out[t] = &struct{ hot, archive, all int64 }{}
		if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM gold."+t+"_all").Scan(&out[t].all); err != nil {
			return nil, fmt.Errorf("count gold.%s_all: %w", t, err)
		}
	}
	rows, err := d.db.QueryContext(ctx, "SELECT table_name, tier, coalesce(rows, 0) FROM gold.data_span")
	if err != nil {
		return nil, fmt.Errorf("read gold.data_span: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, tier string
		var n int64
		if err := rows.Scan(&table, &tier, &n); err != nil {
			return nil, err
		}
		r := out[table]
		if r == nil {
			continue
		}
		switch tier {
		case "hot":
			r.hot = n
		case "archive":
			r.archive = n
		}
	}
	return out, rows.Err()
}
