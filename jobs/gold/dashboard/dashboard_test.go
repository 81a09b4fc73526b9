package dashboard

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// provisioned is the repository's dashboards directory.
var provisioned = filepath.Join("..", "..", "..", "services", "grafana", "dashboards")

// datasourceUIDs are the uids services/grafana/provisioning/datasources declares.
var datasourceUIDs = []string{"weir-trino"}

func TestProvisionedDashboardsValid(t *testing.T) {
	ds, err := Load(provisioned)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(ds, datasourceUIDs); err != nil {
		t.Fatal(err)
	}
	want := []string{"weir-alerts", "weir-business", "weir-errors", "weir-performance", "weir-pipeline-health", "weir-trace", "weir-web-traffic"}
	var got []string
	for _, d := range ds {
		got = append(got, d.UID)
		if len(d.Queries()) == 0 {
			t.Errorf("%s: no queries", d.File)
		}
		// Every query renders with the saved variable values.
		for _, q := range d.Queries() {
			sql, err := d.Render(q, d.Defaults(), time.Now().Add(-time.Hour), time.Now(), time.Minute)
			if err != nil {
				t.Errorf("%s: %v", q.Name(), err)
			}
			if strings.Contains(sql, "$") {
				t.Errorf("%s: unexpanded $ left in %s", q.Name(), sql)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("dashboards = %v, want %v", got, want)
	}
}

// NotInRange starts the description of a panel that shows a state now, not
// data of the dashboard's time range.
const NotInRange = "Not filtered by the time range: "

// TestPanelsHonourTimeRange insists that every panel query is filtered by
// the dashboard's time range (one of the plugin's time macros), unless its
// description says why not (NotInRange).
func TestPanelsHonourTimeRange(t *testing.T) {
	ds, err := Load(provisioned)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		for _, p := range d.AllPanels() {
			src, _ := d.Source(p) // a panel reusing another's results has its range
			for _, tg := range src.Targets {
				ranged := false
				for _, m := range []string{"$__timeFilter(", "$__dateFilter(", "$__timeFrom()", "$__timeTo()", "$__unixEpochFilter("} {
					ranged = ranged || strings.Contains(tg.RawSQL, m)
				}
				if !ranged && !strings.HasPrefix(p.Description, NotInRange) {
					t.Errorf("%s / %q: the query ignores the time range and the description does not say why (%q...)", d.UID, p.Title, NotInRange)
				}
			}
		}
	}
}

func TestValidateRejects(t *testing.T) {
	base := func() *Dashboard {
		d := &Dashboard{File: "a.json", UID: "a", Title: "A"}
		d.Panels = []Panel{{ID: 1, Title: "p", Datasource: &Datasource{UID: "weir-trino"},
			Targets: []Target{{RefID: "A", RawSQL: "SELECT 1 FROM gold.x"}}}}
		return d
	}
	for _, tc := range []struct {
		name   string
		mutate func(d *Dashboard) []*Dashboard
		want   string
	}{
		{"unknown datasource", func(d *Dashboard) []*Dashboard {
			d.Panels[0].Datasource.UID = "prometheus"
			return []*Dashboard{d}
		}, `datasource uid "prometheus"`},
		{"duplicate uid", func(d *Dashboard) []*Dashboard {
			e := base()
			e.File, e.Title = "b.json", "B"
			return []*Dashboard{d, e}
		}, `uid "a" also used`},
		{"duplicate panel id", func(d *Dashboard) []*Dashboard {
			d.Panels = append(d.Panels, d.Panels[0])
			return []*Dashboard{d}
		}, "duplicate panel id"},
		{"reads silver", func(d *Dashboard) []*Dashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT * FROM silver.events"
			return []*Dashboard{d}
		}, "reads silver."},
		{"reads the scheduler catalog", func(d *Dashboard) []*Dashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT * FROM gold.x JOIN scheduler.public.dag_runs ON true"
			return []*Dashboard{d}
		}, "reads scheduler."},
		{"reuses a missing panel", func(d *Dashboard) []*Dashboard {
			dash := &Datasource{Type: "datasource", UID: DashboardDatasource}
			d.Panels = append(d.Panels, Panel{ID: 2, Title: "q", Datasource: dash, Targets: []Target{{RefID: "A", Datasource: dash, PanelID: 3}}})
			return []*Dashboard{d}
		}, "reuses no panel with queries"},
		{"undefined variable", func(d *Dashboard) []*Dashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT * FROM gold.x WHERE a = ${nope:sqlstring}"
			return []*Dashboard{d}
		}, "$nope is not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.mutate(base()), datasourceUIDs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestInterpolate(t *testing.T) {
	d := &Dashboard{}
	d.Templating.List = []Variable{
		{Name: "svc", Multi: true, IncludeAll: true, Options: []Option{{Value: "$__all"}, {Value: "cart"}, {Value: "orders"}}},
		{Name: "one"},
	}
	from := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	to := from.Add(2 * time.Hour)
	for _, tc := range []struct {
		name, sql string
		vals      Values
		want      string
	}{
		{"sqlstring multi", "s IN (${svc:sqlstring})", Values{"svc": {"cart", "orders"}}, "s IN ('cart','orders')"},
		{"sqlstring all", "s IN (${svc:sqlstring})", Values{"svc": {"$__all"}}, "s IN ('cart','orders')"},
		{"sqlstring escapes quote", "s = ${one:sqlstring}", Values{"one": {"x' OR '1'='1"}}, "s = 'x'' OR ''1''=''1'"},
		{"plugin default single", "s = '$one'", Values{"one": {"o'k"}}, "s = 'o''k'"},
		{"plugin default multi", "s IN ($svc)", Values{"svc": {"a'b", "c"}}, "s IN ('a''b','c')"},
		{"csv", "${svc:csv}", Values{"svc": {"a", "b"}}, "a,b"},
		{"interval", "$__timeGroup(t, $__interval)", nil, "$__timeGroup(t, 5m)"},
		{"range ms", "${__from}-$__to", nil, "1795168800000-1795176000000"},
		{"unknown left alone", "$nothing", nil, "$nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.Interpolate(tc.sql, tc.vals, from, to, 5*time.Minute); got != tc.want {
				t.Errorf("Interpolate(%q) = %q, want %q", tc.sql, got, tc.want)
			}
		})
	}
}

func TestExpandMacros(t *testing.T) {
	from := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 21, 12, 30, 5, 0, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"timeFilter", "WHERE $__timeFilter(event_ts)", "WHERE event_ts BETWEEN TIMESTAMP '2026-11-20 10:00:00' AND TIMESTAMP '2026-11-21 11:30:05'"},
		{"timeFilter with format", "$__timeFilter(ts, 'yyyy-MM-dd HH:mm:ss')", "TIMESTAMP ts BETWEEN TIMESTAMP '2026-11-20 10:00:00' AND TIMESTAMP '2026-11-21 11:30:05'"},
		{"timeGroup", "$__timeGroup(bucket, 1h)", "FROM_UNIXTIME(FLOOR(TO_UNIXTIME(bucket)/3600)*3600)"},
		{"timeGroup quoted 15m", "$__timeGroup(bucket, '15m')", "FROM_UNIXTIME(FLOOR(TO_UNIXTIME(bucket)/900)*900)"},
		{"timeGroup 1d", "$__timeGroup(bucket, 1d)", "FROM_UNIXTIME(FLOOR(TO_UNIXTIME(bucket)/86400)*86400)"},
		{"from to", "$__timeFrom() $__timeTo()", "TIMESTAMP '2026-11-20 10:00:00' TIMESTAMP '2026-11-21 11:30:05'"},
		{"dateFilter", "$__dateFilter(day)", "day BETWEEN date '2026-11-20' AND date '2026-11-21'"},
		{"unixEpochFilter", "$__unixEpochFilter(secs)", "secs BETWEEN 1795168800 AND 1795260605"},
		{"unixEpochGroup", "$__unixEpochGroup(secs, 5m)", "FROM_UNIXTIME(FLOOR(secs/300)*300)"},
		{"parseTime", "$__parseTime(s)", "TIMESTAMP s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandMacros(tc.sql, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ExpandMacros(%q) = %q, want %q", tc.sql, got, tc.want)
			}
		})
	}
	if _, err := ExpandMacros("$__timeGroup(x)", from, to); err == nil {
		t.Error("timeGroup without interval: want error")
	}
}
