package dashboard

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"weir/trino"
)

//go:embed view.html assets/echarts.min.js assets/view.js
var viewFS embed.FS

// Viewer serves weir's Dashboards page: the provisioned dashboards laid
// out on their grid and drawn in the browser with Apache ECharts, each
// panel's SQL rendered for the chosen time range and variables exactly as
// Grafana's Trino data source would (Render) and run on Trino. It exists
// because Grafana cannot run everywhere weir does; the JSON is the same.
type Viewer struct {
	dashboards []*Dashboard
	db         *sql.DB
	log        *slog.Logger
	now        func() time.Time
	page       *template.Template

	mu      sync.Mutex
	options map[string]resolved // by dashboard and range: resolve
}

// MaxRows caps the rows a panel sends to the browser.
const MaxRows = 5000

// panelTimeout bounds one panel's queries.
const panelTimeout = 2 * time.Minute

// NewViewer returns a viewer of ds whose panels query db.
func NewViewer(ds []*Dashboard, db *sql.DB, log *slog.Logger) *Viewer {
	return &Viewer{dashboards: ds, db: db, log: log, now: time.Now, options: map[string]resolved{},
		page: template.Must(template.New("").Funcs(template.FuncMap{
			"inc":    func(i int) int { return i + 1 },
			"width":  func(w int) int { return cmpOr(w, 24) },
			"height": func(h int) int { return cmpOr(h, 8) },
		}).ParseFS(viewFS, "view.html"))}
}

// Register routes the page under /dashboards/ on mux: the list, one page
// per dashboard (?from=now-24h&to=now&var-name=value, as Grafana's URLs),
// each panel's data as JSON, and the page's scripts.
func (v *Viewer) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /dashboards/{$}", v.list)
	mux.HandleFunc("GET /dashboards/{uid}", v.dashboard)
	mux.HandleFunc("GET /dashboards/{uid}/panels/{id}", v.panel)
	mux.HandleFunc("GET /dashboards/assets/{file}", v.asset)
}

func (v *Viewer) find(uid string) *Dashboard {
	for _, d := range v.dashboards {
		if d.UID == uid {
			return d
		}
	}
	return nil
}

func (v *Viewer) list(w http.ResponseWriter, r *http.Request) {
	v.render(w, "list", map[string]any{"Dashboards": v.dashboards})
}

// pagePanel is one panel as the page template lays it out.
type pagePanel struct {
	Panel
	DataURL         string // the data of the panel it reuses (DashboardDatasource), if any
	Transformations string // JSON, for view.js
}

// target is the dashboard a request names and the time range it asks for;
// ok is false when an error was written instead.
func (v *Viewer) target(w http.ResponseWriter, r *http.Request) (d *Dashboard, from, to time.Time, ok bool) {
	if d = v.find(r.PathValue("uid")); d == nil {
		http.Error(w, "no such dashboard", http.StatusNotFound)
		return nil, from, to, false
	}
	from, to, err := v.timeRange(r.URL.Query(), d)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, from, to, false
	}
	return d, from, to, true
}

func (v *Viewer) dashboard(w http.ResponseWriter, r *http.Request) {
	d, from, to, ok := v.target(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), panelTimeout)
	defer cancel()
	dc, err := v.resolve(ctx, d, r.URL.Query(), from, to)
	optionsErr := ""
	if err != nil {
		optionsErr = err.Error()
	}
	vals := dc.values(r.URL.Query())
	// Each panel asks for its data with the page's own range and variables.
	query := r.URL.Query().Encode()
	var panels []pagePanel
	for _, p := range dc.AllPanels() {
		if len(p.Targets) == 0 {
			continue
		}
		// A panel reusing another's results asks for that panel's data
		// (view.js fetches each URL once).
		src, _ := dc.Source(p)
		tf, err := json.Marshal(p.Transformations)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		panels = append(panels, pagePanel{Panel: p, Transformations: string(tf),
			DataURL: fmt.Sprintf("/dashboards/%s/panels/%d?%s", url.PathEscape(d.UID), src.ID, query)})
	}
	type varView struct {
		Name, Label string
		Multi       bool
		Options     []Option
		Selected    map[string]bool
	}
	var vars []varView
	for _, vr := range dc.Templating.List {
		if vr.Type != "query" && vr.Type != "custom" {
			continue
		}
		opts := vr.Options
		if vr.IncludeAll {
			opts = append([]Option{{Text: "All", Value: "$__all"}}, opts...)
		}
		sel := map[string]bool{}
		for _, s := range vals[vr.Name] {
			sel[s] = true
		}
		vars = append(vars, varView{Name: vr.Name, Label: vr.Name, Multi: vr.Multi, Options: opts, Selected: sel})
	}
	v.render(w, "dashboard", map[string]any{
		"D": dc, "Panels": panels, "Vars": vars, "OptionsErr": optionsErr,
		"From": r.URL.Query().Get("from"), "To": r.URL.Query().Get("to"),
		"Range":  fmt.Sprintf("%s – %s", from.UTC().Format("2006-01-02 15:04"), to.UTC().Format("2006-01-02 15:04 UTC")),
		"Ranges": []string{"now-1h", "now-6h", "now-24h", "now-7d", "now-30d", "now-90d"},
	})
}

// cmpOr is n, or def when n is not positive (a panel saved without its
// size).
func cmpOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// resolve returns a copy of d with its query variables' options filled
// for the range (an "All" choice expands to them), as Grafana resolves them
// when a dashboard loads. One page load asks once per panel, so the
// options are kept for optionsTTL per dashboard and range as the URL gives it.
func (v *Viewer) resolve(ctx context.Context, d *Dashboard, q url.Values, from, to time.Time) (*Dashboard, error) {
	key := d.UID + "|" + q.Get("from") + "|" + q.Get("to")
	v.mu.Lock()
	c, ok := v.options[key]
	v.mu.Unlock()
	if ok && v.now().Sub(c.at) < optionsTTL {
		return c.d, nil
	}
	dc := *d
	dc.Templating.List = append([]Variable(nil), d.Templating.List...)
	if err := dc.ResolveOptions(ctx, v.db, from, to); err != nil {
		return &dc, err
	}
	v.mu.Lock()
	for k, c := range v.options {
		if v.now().Sub(c.at) >= optionsTTL {
			delete(v.options, k)
		}
	}
	v.options[key] = resolved{d: &dc, at: v.now()}
	v.mu.Unlock()
	return &dc, nil
}

// optionsTTL is how long resolved variable options are reused.
const optionsTTL = 30 * time.Second

type resolved struct {
	d  *Dashboard
	at time.Time
}

func (v *Viewer) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := v.page.ExecuteTemplate(w, name, data); err != nil {
		v.log.Error("render dashboards page", "err", err)
	}
}

func (v *Viewer) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name != "echarts.min.js" && name != "view.js" {
		http.NotFound(w, r)
		return
	}
	b, err := viewFS.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write(b)
}

// Column is one result column: its name and kind (time, number or
// string), which decides how the browser draws it.
type Column struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Frame is one target's result.
type Frame struct {
	RefID     string   `json:"refId"`
	Columns   []Column `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// PanelData is what the page draws a panel from.
type PanelData struct {
	Type   string  `json:"type"`
	Title  string  `json:"title"`
	From   int64   `json:"from"` // unix ms
	To     int64   `json:"to"`
	Frames []Frame `json:"frames"`
}

func (v *Viewer) panel(w http.ResponseWriter, r *http.Request) {
	d, from, to, ok := v.target(w, r)
	if !ok {
		return
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.Error(w, "no such panel", http.StatusNotFound)
		return
	}
	var p *Panel
	for _, cand := range d.AllPanels() {
		if cand.ID == id {
			p = &cand
			break
		}
	}
	if p == nil {
		http.Error(w, "no such panel", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), panelTimeout)
	defer cancel()
	d, err = v.resolve(ctx, d, r.URL.Query(), from, to)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	vals := d.values(r.URL.Query())
	out := PanelData{Type: p.Type, Title: p.Title, From: from.UnixMilli(), To: to.UnixMilli()}
	src, ok := d.Source(*p)
	if !ok {
		http.Error(w, "the panel it reuses is missing", http.StatusNotFound)
		return
	}
	for _, t := range src.Targets {
		q := Query{Dashboard: d.UID, Panel: p.Title, PanelID: p.ID, RefID: t.RefID, SQL: t.RawSQL, Format: t.Format}
		f := Frame{RefID: t.RefID}
		query, err := d.Render(q, vals, from, to, Interval(from, to))
		if err == nil {
			f, err = v.frame(ctx, query)
			f.RefID = t.RefID
		}
		if err != nil {
			f.Error = err.Error()
			v.log.Warn("dashboard panel query failed", "dashboard", d.UID, "panel", p.Title, "err", err)
		}
		out.Frames = append(out.Frames, f)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// frame runs query and reads at most MaxRows rows of it.
func (v *Viewer) frame(ctx context.Context, query string) (Frame, error) {
	var f Frame
	err := trino.Retry(ctx, func() error {
		rows, err := v.db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		types, err := rows.ColumnTypes()
		if err != nil {
			rows.Close()
			return err
		}
		f = Frame{}
		for _, ct := range types {
			f.Columns = append(f.Columns, Column{Name: ct.Name(), Kind: columnKind(ct.DatabaseTypeName())})
		}
		errFull := errors.New("full")
		err = trino.Values(rows, func(vals []any) error {
			if len(f.Rows) == MaxRows {
				f.Truncated = true
				return errFull
			}
			row := make([]any, len(vals))
			for i, val := range vals {
				row[i] = jsonValue(val, f.Columns[i].Kind)
			}
			f.Rows = append(f.Rows, row)
			return nil
		})
		if errors.Is(err, errFull) {
			err = nil
		}
		return err
	})
	return f, err
}

// columnKind maps a Trino type name to how a panel draws it.
func columnKind(typ string) string {
	t := strings.ToUpper(typ)
	switch {
	case strings.HasPrefix(t, "TIMESTAMP"), t == "DATE":
		return "time"
	case strings.Contains(t, "INT"), strings.HasPrefix(t, "DOUBLE"), strings.HasPrefix(t, "REAL"), strings.HasPrefix(t, "DECIMAL"):
		return "number"
	}
	return "string"
}

// jsonValue is a scanned value as the browser reads it: times as unix
// milliseconds, numbers as numbers (NaN and infinities as null), the rest
// as text.
func jsonValue(val any, kind string) any {
	switch x := val.(type) {
	case nil:
		return nil
	case time.Time:
		return x.UnixMilli()
	case []byte:
		val = string(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case int64, int32, int, bool:
		return x
	}
	s := fmt.Sprint(val)
	if kind == "number" {
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return n
		}
	}
	return s
}

// values are the selected values of d's variables: var-name parameters as
// in Grafana's URLs, else the dashboard's saved choice.
func (d *Dashboard) values(q url.Values) Values {
	vals := d.Defaults()
	for _, vr := range d.Templating.List {
		if sel, ok := q["var-"+vr.Name]; ok && len(sel) > 0 {
			vals[vr.Name] = sel
		}
	}
	return vals
}

// timeRange reads from and to as Grafana's URLs give them ("now",
// "now-6h", unix milliseconds or RFC 3339), defaulting to the dashboard's
// saved range.
func (v *Viewer) timeRange(q url.Values, d *Dashboard) (from, to time.Time, err error) {
	now := v.now().UTC()
	pick := func(param, saved, fallback string) string {
		if s := q.Get(param); s != "" {
			return s
		}
		if saved != "" {
			return saved
		}
		return fallback
	}
	if from, err = ParseTime(pick("from", d.Time.From, "now-24h"), now); err != nil {
		return from, to, err
	}
	if to, err = ParseTime(pick("to", d.Time.To, "now"), now); err != nil {
		return from, to, err
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("time range: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

// ParseTime reads a Grafana time: "now", "now-<interval>", unix
// milliseconds or RFC 3339.
func ParseTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "now-"):
		d, err := parseGrafanaInterval(strings.TrimPrefix(s, "now-"))
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("time %q: want now-<n><s|m|h|d|w>", s)
		}
		return now.Add(-d), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want now, now-6h, unix milliseconds or RFC 3339", s)
	}
	return t.UTC(), nil
}

// intervals are the steps $__interval snaps to, as Grafana rounds its
// computed interval.
var intervals = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// Interval is $__interval for a range: about 300 points across it, snapped
// up to a round step (Grafana derives it from the panel's width the same
// way).
func Interval(from, to time.Time) time.Duration {
	want := to.Sub(from) / 300
	i := sort.Search(len(intervals), func(i int) bool { return intervals[i] >= want })
	if i == len(intervals) {
		return intervals[len(intervals)-1]
	}
	return intervals[i]
}
