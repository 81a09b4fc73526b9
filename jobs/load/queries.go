package load

import (
	"fmt"
	"time"

	"weir/jobs/gold/dashboard"
)

// DashboardQueries renders every panel query of the dashboards, with their
// saved variable values, for the time range [from, to): the queries Grafana
// would send when someone opens them. Resolve query variables' options first
// (Dashboard.ResolveOptions) so "All" expands to real values.
func DashboardQueries(dashboards []*dashboard.Dashboard, from, to time.Time) ([]Query, error) {
	interval := max(to.Sub(from)/1000, time.Second).Round(time.Second)
	var out []Query
	for _, d := range dashboards {
		for _, q := range d.Queries() {
			sql, err := d.Render(q, d.Defaults(), from, to, interval)
			if err != nil {
				return nil, fmt.Errorf("render %s: %w", q.Name(), err)
			}
			out = append(out, Query{Name: q.Name(), SQL: sql})
		}
	}
	return out, nil
}
