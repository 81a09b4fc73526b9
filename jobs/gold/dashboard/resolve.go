package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ResolveOptions fills the options of every query variable by running its
// SQL (variables and macros rendered for the time range), as Grafana does
// when a dashboard loads; the first column gives the values.
func (d *Dashboard) ResolveOptions(ctx context.Context, db *sql.DB, from, to time.Time) error {
	for i := range d.Templating.List {
		v := &d.Templating.List[i]
		if v.Type != "query" {
			continue
		}
		query, err := ExpandMacros(d.Interpolate(v.QuerySQL(), d.Defaults(), from, to, time.Minute), from, to)
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Name, err)
		}
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Name, err)
		}
		v.Options = nil
		for rows.Next() {
			var val sql.NullString
			if err := rows.Scan(&val); err != nil {
				rows.Close()
				return fmt.Errorf("variable %s: %w", v.Name, err)
			}
			if val.Valid {
				v.Options = append(v.Options, Option{Text: val.String, Value: val.String})
			}
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Name, err)
		}
	}
	return nil
}
