package scheduler

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"weir/trino"
)

// TemplateData is what task args and SQL files may reference, e.g.
// `--since={{ rfc3339 .DataIntervalStart }}` or `{{ .Params.source }}`. In
// SQL files strings render as quoted literals (`{{ .Params.source }}` is
// 'logs', quotes doubled), never as raw SQL.
type TemplateData struct {
	DAGID             string
	RunID             string
	LogicalDate       time.Time
	DataIntervalStart time.Time
	DataIntervalEnd   time.Time
	Params            map[string]string
	TryNumber         int
}

var templateFuncs = template.FuncMap{
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"date":    func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	// sqlts renders a Trino TIMESTAMP WITH TIME ZONE literal.
	"sqlts": func(t time.Time) string {
		return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.000000") + " UTC'"
	},
}

func newTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
}

// sqlData is TemplateData as a SQL template sees it: every string is a
// quoted literal, so `WHERE source = {{ .Params.source }}` stays one
// comparison whatever a manual trigger passes as source.
type sqlData struct {
	DAGID             sqlLiteral
	RunID             sqlLiteral
	LogicalDate       time.Time
	DataIntervalStart time.Time
	DataIntervalEnd   time.Time
	Params            map[string]sqlLiteral
	TryNumber         int
}

// sqlLiteral prints as a Trino string literal.
type sqlLiteral string

func (s sqlLiteral) String() string { return trino.String(string(s)) }

func (d TemplateData) sql() sqlData {
	params := make(map[string]sqlLiteral, len(d.Params))
	for k, v := range d.Params {
		params[k] = sqlLiteral(v)
	}
	return sqlData{DAGID: sqlLiteral(d.DAGID), RunID: sqlLiteral(d.RunID), LogicalDate: d.LogicalDate,
		DataIntervalStart: d.DataIntervalStart, DataIntervalEnd: d.DataIntervalEnd, Params: params, TryNumber: d.TryNumber}
}

// Rendered is a task with its templates filled in for one run.
type Rendered struct {
	Argv []string // job words followed by the rendered args; empty for SQL
	SQL  string
}

// Render fills in the task's templates for one run.
func (t *Task) Render(data TemplateData) (Rendered, error) {
	var r Rendered
	if t.Job != "" {
		r.Argv = append(r.Argv, strings.Fields(t.Job)...)
		for i, tmpl := range t.args {
			var b strings.Builder
			if err := tmpl.Execute(&b, data); err != nil {
				return Rendered{}, fmt.Errorf("render args[%d]: %w", i, err)
			}
			r.Argv = append(r.Argv, b.String())
		}
	}
	if t.sql != nil {
		var b strings.Builder
		if err := t.sql.Execute(&b, data.sql()); err != nil {
			return Rendered{}, fmt.Errorf("render sql: %w", err)
		}
		r.SQL = b.String()
	}
	return r, nil
}
