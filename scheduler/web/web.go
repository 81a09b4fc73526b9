// Package web serves the scheduler's operator interface: an HTML UI (DAG
// list with schedule, next run and last state; a grid of runs × tasks
// coloured by state; task logs per try; trigger, clear, pause and backfill
// forms), the JSON API it is built on, /metrics and /healthz, and the
// webhook that stores Alertmanager's notifications (shown on the
// Notifications page).
//
// Contract: every page is server-rendered with html/template and works
// without JavaScript; every action is a POST form that redirects back
// (post/redirect/get). The HTML and the JSON API read the same view models,
// and actions go through engine.Trigger, engine.Clear and engine.Backfill,
// exactly like the CLI.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/endpoints"
	"weir/scheduler"
	"weir/scheduler/engine"
	"weir/scheduler/store"
	"weir/services/alertmanager"
)

//go:embed templates/*.html
var templateFS embed.FS

// Server is the HTTP interface of one engine.
type Server struct {
	e      *engine.Engine
	st     *store.Store
	gath   prometheus.Gatherer
	log    *slog.Logger
	tmpl   *template.Template
	access Access
	mounts []func(*http.ServeMux)
	// notified counts webhook bodies by outcome: stored, duplicate, refused.
	notified *prometheus.CounterVec
}

// Mount adds the routes register makes (weir's Dashboards page) to the
// server's handler, behind the same Access.
func (s *Server) Mount(register func(*http.ServeMux)) { s.mounts = append(s.mounts, register) }

// New returns a server for e; reg is the registry the engine's metrics are
// registered with, which the server's join; access says who may use it
// (Access.Validate).
func New(e *engine.Engine, reg *prometheus.Registry, log *slog.Logger, access Access) (*Server, error) {
	if err := access.Validate(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"ts":   fmtTime,
		"path": url.PathEscape,
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return e.Now().Sub(t).Round(time.Second).String() + " ago"
		},
		"dur": func(a, b time.Time) string {
			if a.IsZero() || b.IsZero() {
				return ""
			}
			return b.Sub(a).Round(time.Millisecond).String()
		},
		"pct": func(n, total int) int {
			if total == 0 {
				return 100
			}
			return 100 * n / total
		},
		"add": func(a, b int) int { return a + b },
	}
	notified := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_scheduler_notifications_received_total",
		Help: "Alertmanager webhook bodies received, by outcome: stored (new), duplicate (a retry or repeat, counted on its row), refused (bad body)."},
		[]string{"outcome"})
	if err := reg.Register(notified); err != nil {
		return nil, fmt.Errorf("register web metrics: %w", err)
	}
	for _, o := range []string{"stored", "duplicate", "refused"} {
		notified.WithLabelValues(o)
	}
	return &Server{e: e, st: e.Store(), gath: reg, log: log, access: access, notified: notified,
		tmpl: template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))}, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// Handler routes the UI, the API, /metrics and /healthz, behind the
// server's Access.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page(s.dagList, "index.html"))
	mux.HandleFunc("GET /dags/{dag}", s.page(s.dagDetail, "dag.html"))
	mux.HandleFunc("GET /dags/{dag}/runs/{run}/tasks/{task}", s.page(s.taskLog, "log.html"))
	mux.HandleFunc("POST /dags/{dag}/trigger", s.form(s.triggerForm))
	mux.HandleFunc("POST /dags/{dag}/runs/{run}/clear", s.form(s.clearForm))
	mux.HandleFunc("POST /dags/{dag}/pause", s.form(s.pauseForm))
	mux.HandleFunc("POST /dags/{dag}/backfill", s.form(s.backfillForm))

	mux.HandleFunc("GET /api/v1/dags", s.api(func(r *http.Request) (any, error) { return s.dagList(r) }))
	mux.HandleFunc("GET /api/v1/dags/{dag}", s.api(func(r *http.Request) (any, error) { return s.dagDetail(r) }))
	mux.HandleFunc("GET /api/v1/dags/{dag}/runs/{run}", s.api(s.apiRun))
	mux.HandleFunc("GET /api/v1/dags/{dag}/runs/{run}/tasks/{task}", s.api(func(r *http.Request) (any, error) { return s.taskLog(r) }))
	mux.HandleFunc("POST /api/v1/dags/{dag}/runs", s.api(s.apiTrigger))
	mux.HandleFunc("POST /api/v1/dags/{dag}/runs/{run}/clear", s.api(s.apiClear))
	mux.HandleFunc("POST /api/v1/dags/{dag}/backfills", s.api(s.apiBackfill))
	mux.HandleFunc("GET /api/v1/dags/{dag}/backfills/{id}", s.api(s.apiBackfillProgress))

	mux.HandleFunc("GET /notifications", s.page(s.notifications, "notifications.html"))
	mux.HandleFunc("GET /api/v1/notifications", s.api(s.notifications))
	mux.HandleFunc("POST "+alertmanager.WebhookPath, s.api(s.webhook))

	for _, register := range s.mounts {
		register(mux)
	}
	endpoints.Register(mux, s.gath, s.healthz, s.healthz)
	return s.access.protect(mux)
}

// httpError carries a status code to the error writers.
type httpError struct {
	code int
	err  error
}

func (e httpError) Error() string { return e.err.Error() }

func badRequest(format string, args ...any) error {
	return httpError{http.StatusBadRequest, fmt.Errorf(format, args...)}
}

func status(err error) int {
	var he httpError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrTaskRunning):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func (s *Server) page(build func(*http.Request) (any, error), name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := build(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := s.tmpl.ExecuteTemplate(w, name, data); err != nil {
			s.log.Error("render page", "page", name, "err", err)
		}
	}
}

// form runs an action and redirects to the page it returns, with the
// action's message (or error) in the query string for the banner.
func (s *Server) form(act func(*http.Request) (string, string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, badRequest("parse form: %v", err))
			return
		}
		to, msg, err := act(r)
		q := url.Values{}
		if err != nil {
			if to == "" {
				s.fail(w, r, err)
				return
			}
			q.Set("error", err.Error())
		} else if msg != "" {
			q.Set("msg", msg)
		}
		if len(q) > 0 {
			to += "?" + q.Encode()
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

func (s *Server) api(h func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(status(err))
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	if code >= 500 {
		s.log.Error("request", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = s.tmpl.ExecuteTemplate(w, "error.html", map[string]any{"Code": code, "Error": err.Error()})
}

// healthz: the scheduler works while its store answers and its loop ticks.
func (s *Server) healthz(ctx context.Context) error {
	if err := s.st.Ping(ctx); err != nil {
		return err
	}
	return s.e.Healthy()
}

func (s *Server) dag(r *http.Request) (*scheduler.DAG, error) {
	id := r.PathValue("dag")
	d := s.e.DAG(id)
	if d == nil {
		return nil, fmt.Errorf("dag %q: %w", id, store.ErrNotFound)
	}
	return d, nil
}

// DAGSummary is a DAG in the list.
type DAGSummary struct {
	ID          string    `json:"id"`
	Description string    `json:"description"`
	File        string    `json:"file"`
	Schedule    string    `json:"schedule"`
	Paused      bool      `json:"paused"`
	NextRun     time.Time `json:"next_run,omitzero"`
	LastRunID   string    `json:"last_run_id,omitempty"`
	LastState   string    `json:"last_state,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Params      []Param   `json:"params,omitempty"`
}

// Param is a declared DAG param with its default.
type Param struct {
	Name    string `json:"name"`
	Default string `json:"default"`
}

// FileProblem is a DAG file that did not load.
type FileProblem struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// DAGList is the index page.
type DAGList struct {
	DAGs       []DAGSummary          `json:"dags"`
	Errors     []FileProblem         `json:"errors"`
	Schedulers []store.SchedulerInfo `json:"schedulers"`
	Now        time.Time             `json:"now"`
	Msg        string                `json:"-"`
	Err        string                `json:"-"`
}

func (s *Server) dagList(r *http.Request) (any, error) {
	ctx := r.Context()
	dags, bad := s.e.DAGs()
	rows, err := s.st.DAGRows(ctx)
	if err != nil {
		return nil, err
	}
	latest, err := s.st.LatestRuns(ctx)
	if err != nil {
		return nil, err
	}
	scheds, err := s.st.Schedulers(ctx)
	if err != nil {
		return nil, err
	}
	now := s.e.Now()
	out := DAGList{Now: now, Schedulers: scheds, DAGs: []DAGSummary{}, Errors: []FileProblem{},
		Msg: r.URL.Query().Get("msg"), Err: r.URL.Query().Get("error")}
	for _, d := range dags {
		out.DAGs = append(out.DAGs, summary(d, rows[d.ID], latest[d.ID], now))
	}
	for _, f := range bad {
		out.Errors = append(out.Errors, FileProblem{File: f.File, Error: f.Err.Error()})
	}
	return out, nil
}

func summary(d *scheduler.DAG, row store.DAGRow, last store.Run, now time.Time) DAGSummary {
	sum := DAGSummary{ID: d.ID, Description: d.Description, File: d.File, Schedule: d.Schedule, Paused: row.Paused,
		LastRunID: last.RunID, LastState: string(last.State), Tags: d.Tags}
	if !row.Paused {
		sum.NextRun = d.NextRun(row.NextLogicalDate, now)
	}
	for _, k := range sortedKeys(d.Params) {
		sum.Params = append(sum.Params, Param{Name: k, Default: d.Params[k]})
	}
	return sum
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TaskRow is one task of the grid with its instance in every run shown.
type TaskRow struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"` // job words or "sql <file>"
	DependsOn []string `json:"depends_on,omitempty"`
	Cells     []Cell   `json:"cells"` // aligned with DAGDetail.Runs
}

// Cell is a task instance in the grid.
type Cell struct {
	RunID string `json:"run_id"`
	State string `json:"state"`
	Tries int    `json:"tries"`
}

// RunView is a run column of the grid.
type RunView struct {
	RunID         string            `json:"run_id"`
	RunType       string            `json:"run_type"`
	State         string            `json:"state"`
	LogicalDate   time.Time         `json:"logical_date"`
	IntervalStart time.Time         `json:"data_interval_start"`
	IntervalEnd   time.Time         `json:"data_interval_end"`
	StartedAt     time.Time         `json:"started_at,omitzero"`
	EndedAt       time.Time         `json:"ended_at,omitzero"`
	Params        map[string]string `json:"params,omitempty"`
}

// DAGDetail is the DAG page: summary, runs × tasks grid, backfills.
type DAGDetail struct {
	DAG       DAGSummary       `json:"dag"`
	Runs      []RunView        `json:"runs"` // oldest first
	Tasks     []TaskRow        `json:"tasks"`
	Backfills []store.Backfill `json:"backfills"`
	// Older is the cursor of the next page of runs (?before=Older), 0 on
	// the last page: the grid shows gridRuns runs at a time.
	Older int64  `json:"older,omitempty"`
	Msg   string `json:"-"`
	Err   string `json:"-"`
}

const gridRuns = 25

func (s *Server) dagDetail(r *http.Request) (any, error) {
	d, err := s.dag(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	rows, err := s.st.DAGRows(ctx)
	if err != nil {
		return nil, err
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			return nil, badRequest("before: want a run id from the page's older link, got %q", v)
		}
	}
	runs, err := s.st.RunsBefore(ctx, d.ID, before, gridRuns+1)
	if err != nil {
		return nil, err
	}
	var older int64
	if len(runs) > gridRuns {
		runs = runs[:gridRuns]
		older = runs[gridRuns-1].PK
	}
	pks := make([]int64, len(runs))
	for i, run := range runs {
		pks[i] = run.PK
	}
	tis, err := s.st.TaskInstances(ctx, pks)
	if err != nil {
		return nil, err
	}
	bfs, err := s.st.Backfills(ctx, d.ID, 5)
	if err != nil {
		return nil, err
	}
	// The summary shows the newest run, which an older page does not hold.
	newest := runs
	if before != 0 {
		if newest, err = s.st.Runs(ctx, d.ID, 1); err != nil {
			return nil, err
		}
	}
	var last store.Run
	if len(newest) > 0 {
		last = newest[0]
	}
	out := DAGDetail{DAG: summary(d, rows[d.ID], last, s.e.Now()), Backfills: bfs, Older: older,
		Msg: r.URL.Query().Get("msg"), Err: r.URL.Query().Get("error")}
	for i := len(runs) - 1; i >= 0; i-- {
		out.Runs = append(out.Runs, runView(runs[i]))
	}
	for _, t := range d.TopoOrder() {
		row := TaskRow{ID: t.ID, Kind: t.Job, DependsOn: t.DependsOn}
		if t.Job == "" {
			row.Kind = "sql " + t.SQLPath
		}
		for i := len(runs) - 1; i >= 0; i-- {
			ti, ok := tis[runs[i].PK][t.ID]
			c := Cell{RunID: runs[i].RunID, State: string(ti.State), Tries: ti.TryNumber}
			if !ok {
				c.State = string(scheduler.StateNone)
			}
			row.Cells = append(row.Cells, c)
		}
		out.Tasks = append(out.Tasks, row)
	}
	return out, nil
}

func runView(r store.Run) RunView {
	return RunView{RunID: r.RunID, RunType: r.RunType, State: string(r.State), LogicalDate: r.LogicalDate,
		IntervalStart: r.Interval.Start, IntervalEnd: r.Interval.End, StartedAt: r.StartedAt, EndedAt: r.EndedAt, Params: r.Params}
}

// TryView is one try with its log.
type TryView struct {
	Try       int       `json:"try"`
	Owner     string    `json:"scheduler"`
	State     string    `json:"state"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	Error     string    `json:"error,omitempty"`
	Log       string    `json:"log"`
}

// TaskLog is the log page of one task instance.
type TaskLog struct {
	DAGID    string    `json:"dag_id"`
	Run      RunView   `json:"run"`
	TaskID   string    `json:"task_id"`
	State    string    `json:"state"`
	MaxTries int       `json:"max_tries"`
	Tries    []TryView `json:"tries"`
	Shown    int       `json:"-"` // index in Tries of the try displayed
}

func (s *Server) taskLog(r *http.Request) (any, error) {
	ctx := r.Context()
	dagID, runID, taskID := r.PathValue("dag"), r.PathValue("run"), r.PathValue("task")
	run, err := s.st.Run(ctx, dagID, runID)
	if err != nil {
		return nil, err
	}
	tis, err := s.st.TaskInstances(ctx, []int64{run.PK})
	if err != nil {
		return nil, err
	}
	ti, ok := tis[run.PK][taskID]
	if !ok {
		return nil, fmt.Errorf("task %q of run %s: %w", taskID, runID, store.ErrNotFound)
	}
	tries, err := s.st.Tries(ctx, run.PK, taskID)
	if err != nil {
		return nil, err
	}
	out := TaskLog{DAGID: dagID, Run: runView(run), TaskID: taskID, State: string(ti.State), MaxTries: ti.MaxTries, Shown: len(tries) - 1}
	for i, t := range tries {
		out.Tries = append(out.Tries, TryView{Try: t.TryNumber, Owner: t.Owner, State: t.State, StartedAt: t.StartedAt,
			EndedAt: t.EndedAt, ExitCode: t.ExitCode, Error: t.Error, Log: t.Log})
		if q := r.URL.Query().Get("try"); q == strconv.Itoa(t.TryNumber) {
			out.Shown = i
		}
	}
	return out, nil
}

func (s *Server) apiRun(r *http.Request) (any, error) {
	run, err := s.st.Run(r.Context(), r.PathValue("dag"), r.PathValue("run"))
	if err != nil {
		return nil, err
	}
	tis, err := s.st.TaskInstances(r.Context(), []int64{run.PK})
	if err != nil {
		return nil, err
	}
	tasks := map[string]any{}
	for id, ti := range tis[run.PK] {
		tasks[id] = map[string]any{"state": ti.State, "try_number": ti.TryNumber, "max_tries": ti.MaxTries,
			"started_at": ti.StartedAt, "ended_at": ti.EndedAt, "next_attempt_at": ti.NextAttemptAt, "scheduler": ti.LeaseOwner}
	}
	return map[string]any{"run": runView(run), "tasks": tasks}, nil
}

// TriggerRequest is the body of POST /api/v1/dags/{dag}/runs.
type TriggerRequest struct {
	Params      map[string]string `json:"params"`
	LogicalDate time.Time         `json:"logical_date"`
}

func (s *Server) apiTrigger(r *http.Request) (any, error) {
	d, err := s.dag(r)
	if err != nil {
		return nil, err
	}
	var req TriggerRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	run, err := engine.Trigger(r.Context(), s.st, d, req.Params, req.LogicalDate, s.e.Now())
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return runView(run), nil
}

func decodeBody(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("decode body: %v", err)
	}
	return nil
}

// ClearRequest is the body of POST .../runs/{run}/clear; no tasks: all.
type ClearRequest struct {
	Tasks      []string `json:"tasks"`
	Downstream bool     `json:"downstream"`
}

func (s *Server) apiClear(r *http.Request) (any, error) {
	d, err := s.dag(r)
	if err != nil {
		return nil, err
	}
	var req ClearRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	cleared, err := engine.Clear(r.Context(), s.st, d, r.PathValue("run"), req.Tasks, req.Downstream)
	if err != nil {
		return nil, err
	}
	return map[string]any{"cleared": cleared}, nil
}

// BackfillRequest is the body of POST .../backfills.
type BackfillRequest struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Reprocess string    `json:"reprocess"`
}

func (s *Server) apiBackfill(r *http.Request) (any, error) {
	d, err := s.dag(r)
	if err != nil {
		return nil, err
	}
	req := BackfillRequest{Reprocess: store.ReprocessNone}
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	b, err := engine.Backfill(r.Context(), s.st, d, req.From, req.To, req.Reprocess, s.e.Now())
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return b, nil
}

func (s *Server) apiBackfillProgress(r *http.Request) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, badRequest("backfill id: %v", err)
	}
	b, err := s.st.BackfillProgress(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if b.DAGID != r.PathValue("dag") {
		return nil, fmt.Errorf("backfill %d of %s: %w", id, r.PathValue("dag"), store.ErrNotFound)
	}
	return b, nil
}

func dagPage(id string) string { return "/dags/" + url.PathEscape(id) }

func (s *Server) triggerForm(r *http.Request) (string, string, error) {
	d, err := s.dag(r)
	if err != nil {
		return "", "", err
	}
	params := map[string]string{}
	for k, v := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "param_"); ok && len(v) > 0 {
			params[name] = v[0]
		}
	}
	var logical time.Time
	if v := strings.TrimSpace(r.PostFormValue("logical_date")); v != "" {
		if logical, err = parseFormTime(v); err != nil {
			return dagPage(d.ID), "", err
		}
	}
	run, err := engine.Trigger(r.Context(), s.st, d, params, logical, s.e.Now())
	if err != nil {
		return dagPage(d.ID), "", err
	}
	return dagPage(d.ID), "triggered " + run.RunID, nil
}

func parseFormTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or RFC 3339", v)
}

func (s *Server) clearForm(r *http.Request) (string, string, error) {
	d, err := s.dag(r)
	if err != nil {
		return "", "", err
	}
	runID := r.PathValue("run")
	var tasks []string
	if t := r.PostFormValue("task"); t != "" {
		tasks = []string{t}
	}
	back := dagPage(d.ID)
	if to := r.PostFormValue("back"); isDAGPage(to) {
		back = to
	}
	cleared, err := engine.Clear(r.Context(), s.st, d, runID, tasks, r.PostFormValue("downstream") != "")
	if err != nil {
		return back, "", err
	}
	return back, fmt.Sprintf("cleared %s in %s", strings.Join(cleared, ", "), runID), nil
}

func (s *Server) pauseForm(r *http.Request) (string, string, error) {
	d, err := s.dag(r)
	if err != nil {
		return "", "", err
	}
	paused := r.PostFormValue("paused") == "true"
	if err := s.st.SetPaused(r.Context(), d.ID, paused); err != nil {
		return dagPage(d.ID), "", err
	}
	if paused {
		return dagPage(d.ID), "paused", nil
	}
	return dagPage(d.ID), "unpaused", nil
}

func (s *Server) backfillForm(r *http.Request) (string, string, error) {
	d, err := s.dag(r)
	if err != nil {
		return "", "", err
	}
	from, err := parseFormTime(r.PostFormValue("from"))
	if err != nil {
		return dagPage(d.ID), "", err
	}
	to, err := parseFormTime(r.PostFormValue("to"))
	if err != nil {
		return dagPage(d.ID), "", err
	}
	b, err := engine.Backfill(r.Context(), s.st, d, from, to, r.PostFormValue("reprocess"), s.e.Now())
	if err != nil {
		return dagPage(d.ID), "", err
	}
	return dagPage(d.ID), fmt.Sprintf("backfill %d queued %d runs", b.ID, b.Total), nil
}

// isDAGPage reports whether a form's "back" target is a page of this UI
// under /dags/: a path only, so a redirect cannot leave the site.
func isDAGPage(to string) bool {
	u, err := url.Parse(to)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil &&
		strings.HasPrefix(u.Path, "/dags/") && !strings.Contains(to, "//") && !strings.Contains(to, `\`)
}
