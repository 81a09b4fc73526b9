// Package dashboard reads weir's provisioned Grafana dashboards
// (services/grafana/dashboards/*.json), checks them, and turns every panel
// query into the SQL the Trino data source plugin would send: template
// variables interpolated the way Grafana does, then the plugin's macros
// ($__timeFilter, $__timeGroup, ...) expanded the way its backend does.
// Tests run that SQL on Trino; weir load replays it as a workload.
package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// Datasource is a data source reference.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// DashboardDatasource is Grafana's built-in data source that gives a
// panel the results of another panel of its dashboard (its target's
// panelId) instead of running a query of its own.
const DashboardDatasource = "-- Dashboard --"

// Target is one query of a panel (the Trino plugin's query model), or,
// under DashboardDatasource, the panel whose results it reuses.
type Target struct {
	RefID      string      `json:"refId"`
	RawSQL     string      `json:"rawSQL"`
	Format     int         `json:"format"`
	Datasource *Datasource `json:"datasource"`
	PanelID    int         `json:"panelId"`
}

// Transformation is one of Grafana's panel transformations (id and its
// options); the Dashboards page applies filterByValue (isNull,
// isNotNull), organize (excludeByName) and convertFieldType (to string).
type Transformation struct {
	ID      string          `json:"id"`
	Options json.RawMessage `json:"options"`
}

// Panel is a dashboard panel; rows nest panels.
type Panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  *Datasource `json:"datasource"`
	Targets     []Target    `json:"targets"`
	Panels      []Panel     `json:"panels"`
	GridPos     GridPos     `json:"gridPos"`

	Transformations []Transformation `json:"transformations"`
	Options         struct {
		XField string `json:"xField"` // a bar chart's category field
	} `json:"options"`
}

// reuses is whether the panel takes another panel's results
// (DashboardDatasource).
func (p Panel) reuses() bool {
	return p.Datasource != nil && p.Datasource.UID == DashboardDatasource
}

// Source is the panel whose queries give p its data: p itself, or the
// panel its DashboardDatasource target names; ok is false when that panel
// is missing.
func (d *Dashboard) Source(p Panel) (Panel, bool) {
	if !p.reuses() {
		return p, true
	}
	if len(p.Targets) != 1 {
		return Panel{}, false
	}
	for _, cand := range d.AllPanels() {
		if cand.ID == p.Targets[0].PanelID && !cand.reuses() {
			return cand, true
		}
	}
	return Panel{}, false
}

// GridPos places a panel on the dashboard's grid: 24 columns wide, rows
// about 30 pixels high.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Option is one choice of a variable.
type Option struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// Current is a variable's selected value(s): a string or a list.
type Current struct {
	Text  any `json:"text"`
	Value any `json:"value"`
}

// Variable is a template variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"` // query, custom, interval, constant, textbox
	Datasource *Datasource     `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	Options    []Option        `json:"options"`
	Current    Current         `json:"current"`
}

// QuerySQL is the SQL of a query variable (a plugin query object or a
// plain string).
func (v *Variable) QuerySQL() string {
	var obj struct {
		RawSQL string `json:"rawSQL"`
	}
	if json.Unmarshal(v.Query, &obj) == nil && obj.RawSQL != "" {
		return obj.RawSQL
	}
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	return ""
}

// Dashboard is one provisioned dashboard.
type Dashboard struct {
	File  string `json:"-"`
	UID   string `json:"uid"`
	Title string `json:"title"`
	Time  struct {
		From string `json:"from"` // "now-24h", or a time
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Query is one panel target of a dashboard.
type Query struct {
	Dashboard string // uid
	Panel     string // title
	PanelID   int
	RefID     string
	SQL       string // raw, with variables and macros
	Format    int
}

// Name identifies the query: dashboard/panel title/refId.
func (q Query) Name() string { return q.Dashboard + "/" + q.Panel + "/" + q.RefID }

// Load reads every *.json of dir, sorted by file name.
func Load(dir string) ([]*Dashboard, error) {
	ds, err := LoadFS(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return ds, nil
}

// LoadFS reads every *.json at the top of fsys (grafana.Dashboards() is
// the provisioned set), sorted by file name.
func LoadFS(fsys fs.FS) ([]*Dashboard, error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("list dashboards: no *.json")
	}
	sort.Strings(files)
	var out []*Dashboard
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read dashboard: %w", err)
		}
		d := &Dashboard{File: f}
		if err := json.Unmarshal(raw, d); err != nil {
			return nil, fmt.Errorf("parse dashboard %s: %w", d.File, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Panels returns every panel, rows flattened.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func(ps []Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Queries returns the SQL targets of every panel.
func (d *Dashboard) Queries() []Query {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			if strings.TrimSpace(t.RawSQL) == "" {
				continue
			}
			out = append(out, Query{Dashboard: d.UID, Panel: p.Title, PanelID: p.ID, RefID: t.RefID, SQL: t.RawSQL, Format: t.Format})
		}
	}
	return out
}

// Variable returns the variable called name.
func (d *Dashboard) Variable(name string) *Variable {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

// Validate checks a set of dashboards against the provisioned data source
// uids: unique dashboard uids, titles and panel ids, every data source
// reference (panel, target, variable) resolving to a known uid, every
// panel with targets querying SQL or reusing (DashboardDatasource) one
// other panel that does, no variable referenced but undefined, and no SQL
// reading anything but the gold schema.
func Validate(dashboards []*Dashboard, datasourceUIDs []string) error {
	known := map[string]bool{}
	for _, u := range datasourceUIDs {
		known[u] = true
	}
	var errs []error
	uids, titles := map[string]string{}, map[string]string{}
	for _, d := range dashboards {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", d.File, fmt.Sprintf(format, args...)))
		}
		if d.UID == "" || len(d.UID) > 40 {
			bad("uid %q: want 1-40 characters", d.UID)
		}
		if o, dup := uids[d.UID]; dup {
			bad("uid %q also used by %s", d.UID, o)
		}
		uids[d.UID] = d.File
		if o, dup := titles[d.Title]; dup {
			bad("title %q also used by %s", d.Title, o)
		}
		titles[d.Title] = d.File
		ds := func(where string, ref *Datasource) {
			if ref != nil && !known[ref.UID] && ref.UID != DashboardDatasource {
				bad("%s: datasource uid %q is not provisioned", where, ref.UID)
			}
		}
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			ds("variable "+v.Name, v.Datasource)
			if v.Type == "query" {
				if v.Datasource == nil {
					bad("variable %s: query variable without datasource", v.Name)
				}
				checkSQL(bad, "variable "+v.Name, v.QuerySQL())
			}
		}
		ids := map[int]bool{}
		for _, p := range d.AllPanels() {
			where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
			if ids[p.ID] {
				bad("%s: duplicate panel id", where)
			}
			ids[p.ID] = true
			ds(where, p.Datasource)
			if p.reuses() {
				if src, ok := d.Source(p); !ok || len(src.Targets) == 0 {
					bad("%s: reuses no panel with queries (want one target whose panelId names one)", where)
				}
				continue
			}
			for _, t := range p.Targets {
				ds(where+" target "+t.RefID, t.Datasource)
				if p.Datasource == nil && t.Datasource == nil {
					bad("%s target %s: no datasource", where, t.RefID)
				}
				if strings.TrimSpace(t.RawSQL) == "" {
					bad("%s target %s: empty rawSQL", where, t.RefID)
				}
				checkSQL(bad, where, t.RawSQL)
				for _, name := range referencedVariables(t.RawSQL) {
					if !vars[name] && !strings.HasPrefix(name, "__") {
						bad("%s: variable $%s is not defined", where, name)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// checkSQL insists that dashboard SQL reads only gold (the Grafana user
// can read nothing else) through qualified names: the scheduler's store,
// too, only through the gold views over Trino's scheduler catalog.
func checkSQL(bad func(string, ...any), where, sql string) {
	lower := strings.ToLower(sql)
	for _, schema := range []string{"silver.", "bronze.", "archive.", "system.", "information_schema.", "scheduler."} {
		if strings.Contains(lower, schema) {
			bad("%s: reads %s* (dashboards read only gold views)", where, schema)
		}
	}
	if !strings.Contains(lower, "gold.") {
		bad("%s: reads no gold view", where)
	}
}
