package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"weir/trino"
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
		values, err := trino.Strings(ctx, db, query)
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Name, err)
		}
		v.Options = nil
		for _, val := range values {
			v.Options = append(v.Options, Option{Text: val, Value: val})
		}
	}
	return nil
}
