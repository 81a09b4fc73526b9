package scheduler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Defaults applied when a DAG file leaves a field out.
const (
	DefaultMaxActiveRuns  = 1
	DefaultMaxActiveTasks = 16
	DefaultRetryDelay     = time.Minute
	DefaultMaxRetryDelay  = time.Hour
	DefaultTimeout        = time.Hour
	// ManualSchedule marks a DAG that only runs when triggered.
	ManualSchedule = "@manual"
)

// DAG is a validated DAG file. Tasks keep the file's order; Order is a
// topological order of their indexes.
type DAG struct {
	ID             string
	Description    string
	File           string
	Schedule       string // as written
	Location       *time.Location
	StartDate      time.Time
	EndDate        time.Time // zero: no end
	Catchup        bool
	MaxActiveRuns  int
	MaxActiveTasks int
	Params         map[string]string
	Tags           []string
	Tasks          []*Task

	sched cron.Schedule // nil for ManualSchedule
	byID  map[string]*Task
	order []*Task
}

// Task is one node of a DAG: a weir job with arguments or a SQL file.
type Task struct {
	ID                 string
	Job                string   // registered job name; empty for SQL tasks
	Args               []string // templates, rendered per run
	SQLPath            string   // as written, relative to the DAG file
	SQL                string   // file content, read at load time
	DependsOn          []string
	Downstream         []string
	Retries            int
	RetryDelay         time.Duration
	ExponentialBackoff bool
	MaxRetryDelay      time.Duration
	Timeout            time.Duration
	Pool               string
	Index              int // position in the file, used as priority

	args []*template.Template
	sql  *template.Template
}

// Task returns the task with id, or nil.
func (d *DAG) Task(id string) *Task { return d.byID[id] }

// Manual reports whether the DAG only runs when triggered.
func (d *DAG) Manual() bool { return d.sched == nil }

// TopoOrder returns the tasks so that every task comes after its upstreams.
func (d *DAG) TopoOrder() []*Task { return d.order }

// fileSpec is the YAML layout of a DAG file.
type fileSpec struct {
	ID             string            `yaml:"id"`
	Description    string            `yaml:"description"`
	Schedule       string            `yaml:"schedule"`
	Timezone       string            `yaml:"timezone"`
	StartDate      string            `yaml:"start_date"`
	EndDate        string            `yaml:"end_date"`
	Catchup        bool              `yaml:"catchup"`
	MaxActiveRuns  *int              `yaml:"max_active_runs"`
	MaxActiveTasks *int              `yaml:"max_active_tasks"`
	Tags           []string          `yaml:"tags"`
	Params         map[string]string `yaml:"params"`
	DefaultArgs    taskOptions       `yaml:"default_args"`
	Tasks          []taskSpec        `yaml:"tasks"`
}

// taskOptions are the fields default_args may set for every task.
type taskOptions struct {
	Retries                 *int    `yaml:"retries"`
	RetryDelay              *string `yaml:"retry_delay"`
	RetryExponentialBackoff *bool   `yaml:"retry_exponential_backoff"`
	MaxRetryDelay           *string `yaml:"max_retry_delay"`
	Timeout                 *string `yaml:"timeout"`
	Pool                    *string `yaml:"pool"`
}

type taskSpec struct {
	ID          string   `yaml:"id"`
	Job         string   `yaml:"job"`
	Args        []string `yaml:"args"`
	SQL         string   `yaml:"sql"`
	DependsOn   []string `yaml:"depends_on"`
	taskOptions `yaml:",inline"`
}

var (
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)
	poolPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	paramPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	cronParser   = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// Parse decodes and validates one DAG file. path is used in errors and to
// resolve sql: paths; jobs is the registry of runnable jobs.
func Parse(path string, raw []byte, jobs []Job) (*DAG, error) {
	var spec fileSpec
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file")
		}
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode yaml: more than one document in a DAG file")
	}
	return compile(path, spec, jobs)
}

// problems collects every validation error of a file, each prefixed by the
// field it concerns, so one run of `weir dags validate` shows them all.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func compile(path string, s fileSpec, jobs []Job) (*DAG, error) {
	var errs problems
	d := &DAG{
		ID:          s.ID,
		Description: s.Description,
		File:        path,
		Schedule:    s.Schedule,
		Catchup:     s.Catchup,
		Params:      s.Params,
		Tags:        s.Tags,
		byID:        map[string]*Task{},
	}
	if d.Params == nil {
		d.Params = map[string]string{}
	}
	if !idPattern.MatchString(s.ID) {
		errs.add("id", "want lowercase letters, digits, '_', '.', '-' (max 100), got %q", s.ID)
	}

	d.Location = time.UTC
	if s.Timezone != "" {
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			errs.add("timezone", "unknown time zone %q", s.Timezone)
		} else {
			d.Location = loc
		}
	}
	switch {
	case s.Schedule == "":
		errs.add("schedule", "required (a cron expression, a @descriptor, or %s)", ManualSchedule)
	case s.Schedule == ManualSchedule:
	default:
		sched, err := parseSchedule(s.Schedule, s.Timezone, d.Location)
		if err != nil {
			errs.add("schedule", "%v", err)
		} else {
			d.sched = sched
		}
	}

	if s.StartDate == "" {
		errs.add("start_date", "required (YYYY-MM-DD or RFC 3339)")
	} else if t, err := parseDate(s.StartDate, d.Location); err != nil {
		errs.add("start_date", "%v", err)
	} else {
		d.StartDate = t
	}
	if s.EndDate != "" {
		if t, err := parseDate(s.EndDate, d.Location); err != nil {
			errs.add("end_date", "%v", err)
		} else if !d.StartDate.IsZero() && !t.After(d.StartDate) {
			errs.add("end_date", "must be after start_date")
		} else {
			d.EndDate = t
		}
	}
	if d.sched != nil && !d.StartDate.IsZero() {
		if first := d.sched.Next(d.StartDate.Add(-time.Nanosecond)); first.IsZero() {
			errs.add("schedule", "%q never fires after start_date", s.Schedule)
		}
	}

	d.MaxActiveRuns = intOr(s.MaxActiveRuns, DefaultMaxActiveRuns)
	if d.MaxActiveRuns < 1 {
		errs.add("max_active_runs", "must be at least 1, got %d", d.MaxActiveRuns)
	}
	d.MaxActiveTasks = intOr(s.MaxActiveTasks, DefaultMaxActiveTasks)
	if d.MaxActiveTasks < 1 {
		errs.add("max_active_tasks", "must be at least 1, got %d", d.MaxActiveTasks)
	}
	for k := range d.Params {
		if !paramPattern.MatchString(k) {
			errs.add("params."+k, "want an identifier (letters, digits, '_')")
		}
	}

	known := map[string]bool{}
	for _, j := range jobs {
		known[j.Name] = true
	}
	defaults := compileOptions("default_args", s.DefaultArgs, nil, &errs)
	if len(s.Tasks) == 0 {
		errs.add("tasks", "at least one task is required")
	}
	for i, ts := range s.Tasks {
		field := fmt.Sprintf("tasks[%d]", i)
		if ts.ID != "" {
			field = fmt.Sprintf("tasks[%d](%s)", i, ts.ID)
		}
		t := compileOptions(field, ts.taskOptions, defaults, &errs)
		t.ID, t.Job, t.Index = ts.ID, ts.Job, i
		t.DependsOn = ts.DependsOn
		if !idPattern.MatchString(ts.ID) {
			errs.add(field+".id", "want lowercase letters, digits, '_', '.', '-' (max 100), got %q", ts.ID)
		} else if d.byID[ts.ID] != nil {
			errs.add(field+".id", "duplicate task id %q", ts.ID)
		} else {
			d.byID[ts.ID] = t
		}
		switch {
		case ts.Job != "" && ts.SQL != "":
			errs.add(field, "set either job or sql, not both")
		case ts.Job == "" && ts.SQL == "":
			errs.add(field, "set job (a weir job) or sql (a SQL file)")
		case ts.Job != "":
			if !known[ts.Job] {
				errs.add(field+".job", "unknown job %q (known: %s)", ts.Job, jobNames(jobs))
			}
		default:
			if len(ts.Args) > 0 {
				errs.add(field+".args", "only job tasks take args")
			}
			t.SQLPath = ts.SQL
			sqlFile := ts.SQL
			if !filepath.IsAbs(sqlFile) {
				sqlFile = filepath.Join(filepath.Dir(path), sqlFile)
			}
			raw, err := os.ReadFile(sqlFile)
			switch {
			case err != nil:
				errs.add(field+".sql", "read SQL file: %v", err)
			case strings.TrimSpace(string(raw)) == "":
				errs.add(field+".sql", "SQL file %s is empty", sqlFile)
			default:
				t.SQL = string(raw)
				if t.sql, err = newTemplate(t.ID+".sql", t.SQL); err != nil {
					errs.add(field+".sql", "template: %v", err)
				}
			}
		}
		t.Args = ts.Args
		for j, a := range ts.Args {
			tmpl, err := newTemplate(fmt.Sprintf("%s.args[%d]", t.ID, j), a)
			if err != nil {
				errs.add(fmt.Sprintf("%s.args[%d]", field, j), "template: %v", err)
				continue
			}
			t.args = append(t.args, tmpl)
		}
		d.Tasks = append(d.Tasks, t)
	}
	for i, t := range d.Tasks {
		seen := map[string]bool{}
		for _, up := range t.DependsOn {
			field := fmt.Sprintf("tasks[%d](%s).depends_on", i, t.ID)
			switch {
			case seen[up]:
				errs.add(field, "%q listed twice", up)
			case up == t.ID:
				errs.add(field, "task depends on itself")
			case d.byID[up] == nil:
				errs.add(field, "unknown task %q", up)
			default:
				d.byID[up].Downstream = append(d.byID[up].Downstream, t.ID)
			}
			seen[up] = true
		}
	}
	if len(errs) == 0 {
		order, cycle := topoSort(d.Tasks, d.byID)
		if cycle != nil {
			errs.add("tasks", "dependency cycle: %s", strings.Join(cycle, " -> "))
		}
		d.order = order
	}
	if len(errs) == 0 {
		// Render every template once with sample values so that unknown fields
		// or params fail validation rather than a run.
		sample := TemplateData{DAGID: d.ID, RunID: "validate", Params: d.Params,
			LogicalDate: d.StartDate, DataIntervalStart: d.StartDate, DataIntervalEnd: d.StartDate}
		for i, t := range d.Tasks {
			if _, err := t.Render(sample); err != nil {
				errs.add(fmt.Sprintf("tasks[%d](%s)", i, t.ID), "%v", err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

func compileOptions(field string, o taskOptions, def *Task, errs *problems) *Task {
	t := &Task{Retries: 0, RetryDelay: DefaultRetryDelay, MaxRetryDelay: DefaultMaxRetryDelay, Timeout: DefaultTimeout}
	if def != nil {
		*t = Task{Retries: def.Retries, RetryDelay: def.RetryDelay, ExponentialBackoff: def.ExponentialBackoff,
			MaxRetryDelay: def.MaxRetryDelay, Timeout: def.Timeout, Pool: def.Pool}
	}
	if o.Retries != nil {
		t.Retries = *o.Retries
		if t.Retries < 0 || t.Retries > 100 {
			errs.add(field+".retries", "want 0..100, got %d", t.Retries)
		}
	}
	dur := func(name string, s *string, dst *time.Duration) {
		if s == nil {
			return
		}
		v, err := time.ParseDuration(*s)
		if err != nil || v <= 0 {
			errs.add(field+"."+name, "want a positive duration like 30s or 5m, got %q", *s)
			return
		}
		*dst = v
	}
	dur("retry_delay", o.RetryDelay, &t.RetryDelay)
	dur("max_retry_delay", o.MaxRetryDelay, &t.MaxRetryDelay)
	dur("timeout", o.Timeout, &t.Timeout)
	if o.RetryExponentialBackoff != nil {
		t.ExponentialBackoff = *o.RetryExponentialBackoff
	}
	if t.MaxRetryDelay < t.RetryDelay && (o.MaxRetryDelay != nil || o.RetryDelay != nil) {
		errs.add(field+".max_retry_delay", "%s is shorter than retry_delay %s", t.MaxRetryDelay, t.RetryDelay)
	}
	if o.Pool != nil {
		t.Pool = *o.Pool
		if !poolPattern.MatchString(t.Pool) {
			errs.add(field+".pool", "want lowercase letters, digits, '_', '-', got %q", t.Pool)
		}
	}
	return t
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func jobNames(jobs []Job) string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// parseSchedule accepts 5- or 6-field cron expressions (seconds optional) and
// descriptors (@hourly, @daily, ...), with an optional CRON_TZ= prefix or a
// timezone field (not both). @every is rejected: its points are not anchored
// to the calendar, so data intervals would drift with the start date.
func parseSchedule(expr, timezone string, loc *time.Location) (cron.Schedule, error) {
	hasTZ := strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=")
	if hasTZ {
		if timezone != "" {
			return nil, errors.New("set the time zone either with CRON_TZ= or with timezone, not both")
		}
		if !strings.Contains(expr, " ") {
			return nil, fmt.Errorf("%q: CRON_TZ= must be followed by a space and an expression", expr)
		}
	} else {
		expr = "CRON_TZ=" + loc.String() + " " + expr
	}
	if strings.Contains(expr, "@every") {
		return nil, errors.New("@every is not supported: use a cron expression so that intervals align with the calendar")
	}
	s, err := cronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("parse cron expression: %w", err)
	}
	return s, nil
}

func parseDate(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339, got %q", s)
}

// topoSort orders tasks so that upstreams come first (Kahn, stable on file
// order). When there is a cycle it returns one, as a closed path of ids.
func topoSort(tasks []*Task, byID map[string]*Task) ([]*Task, []string) {
	indeg := map[string]int{}
	for _, t := range tasks {
		indeg[t.ID] = len(t.DependsOn)
	}
	var order []*Task
	done := map[string]bool{}
	for len(order) < len(tasks) {
		progressed := false
		for _, t := range tasks {
			if done[t.ID] || indeg[t.ID] > 0 {
				continue
			}
			done[t.ID] = true
			order = append(order, t)
			for _, down := range t.Downstream {
				indeg[down]--
			}
			progressed = true
		}
		if !progressed {
			return nil, findCycle(tasks, byID, done)
		}
	}
	return order, nil
}

func findCycle(tasks []*Task, byID map[string]*Task, done map[string]bool) []string {
	// Walk upstream from any unfinished task; in a graph where every
	// remaining node has a remaining upstream, the walk must revisit a node.
	var start *Task
	for _, t := range tasks {
		if !done[t.ID] {
			start = t
			break
		}
	}
	pos := map[string]int{}
	var path []string
	for t := start; ; {
		if i, ok := pos[t.ID]; ok {
			cycle := append([]string{}, path[i:]...)
			// path follows depends_on edges; print it in execution order.
			for l, r := 0, len(cycle)-1; l < r; l, r = l+1, r-1 {
				cycle[l], cycle[r] = cycle[r], cycle[l]
			}
			return append(cycle, cycle[0])
		}
		pos[t.ID] = len(path)
		path = append(path, t.ID)
		for _, up := range t.DependsOn {
			if !done[up] {
				t = byID[up]
				break
			}
		}
	}
}
