package scheduler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no good testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := LoadFile(f, DefaultJobs()); err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
		})
	}
}

func TestParseBadFiles(t *testing.T) {
	// Each bad file must fail with errors naming the offending field.
	want := map[string][]string{
		"bad_cron.bad.yaml":       {"schedule: parse cron expression"},
		"bad_duration.bad.yaml":   {`default_args.retry_delay: want a positive duration`, `tasks[0](a).timeout: want a positive duration like 30s or 5m, got "-1s"`},
		"bad_id.bad.yaml":         {`id: want lowercase`, "max_active_runs: must be at least 1"},
		"bad_template.bad.yaml":   {`tasks[0](a): render args[0]`, `undeclared`},
		"cycle.bad.yaml":          {"tasks: dependency cycle: b -> c -> a -> b"},
		"duplicate_task.bad.yaml": {`tasks[1](a).id: duplicate task id "a"`},
		"every.bad.yaml":          {"schedule: @every is not supported"},
		"job_and_sql.bad.yaml":    {"tasks[0](a): set either job or sql, not both"},
		"missing_sql.bad.yaml":    {"tasks[0](a).sql: read SQL file"},
		"never_fires.bad.yaml":    {"schedule: \"0 0 30 2 *\" never fires"},
		"no_start.bad.yaml":       {"start_date: required"},
		"timezone_twice.bad.yaml": {"schedule: set the time zone either with CRON_TZ= or with timezone"},
		"unknown_dep.bad.yaml":    {`tasks[0](a).depends_on: unknown task "nope"`},
		"unknown_job.bad.yaml":    {`tasks[0](a).job: unknown job "batch silvr"`},
		"unknown_key.bad.yaml":    {"field retires not found"},
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			subs, ok := want[name]
			if !ok {
				t.Fatalf("no expected error listed for %s", name)
			}
			_, err := LoadFile(f, DefaultJobs())
			if err == nil {
				t.Fatal("LoadFile succeeded, want an error")
			}
			for _, s := range subs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q\ndoes not contain %q", err, s)
				}
			}
		})
	}
	if len(files) != len(want) {
		t.Errorf("%d bad files, %d expectations", len(files), len(want))
	}
}

func TestLoadDirKeepsGoodDAGsNextToBadOnes(t *testing.T) {
	dags, bad, err := LoadDir("testdata", DefaultJobs())
	if err != nil {
		t.Fatal(err)
	}
	good, _ := filepath.Glob("testdata/*.good.yaml")
	bads, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(dags) != len(good) || len(bad) != len(bads) {
		t.Fatalf("loaded %d dags and %d errors, want %d and %d", len(dags), len(bad), len(good), len(bads))
	}
	for _, e := range bad {
		if !strings.HasPrefix(e.Error(), e.File+": ") {
			t.Errorf("error %q does not start with its file", e)
		}
	}
}

func TestLoadDirDuplicateID(t *testing.T) {
	dir := t.TempDir()
	body := "id: same\nschedule: \"@daily\"\nstart_date: 2026-01-01\ntasks:\n  - {id: a, job: task sleep}\n"
	for _, n := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dags, bad, err := LoadDir(dir, DefaultJobs())
	if err != nil {
		t.Fatal(err)
	}
	if len(dags) != 1 || len(bad) != 1 || !strings.Contains(bad[0].Error(), "b.yaml: id: \"same\" is already defined in") {
		t.Fatalf("dags=%d bad=%v", len(dags), bad)
	}
}

func TestFullFile(t *testing.T) {
	d, err := LoadFile("testdata/full.good.yaml", DefaultJobs())
	if err != nil {
		t.Fatal(err)
	}
	check := d.Task("check")
	publish := d.Task("publish")
	extract := d.Task("extract")
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"start_date", d.StartDate, time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"end_date (in timezone)", d.EndDate, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"max_active_runs", d.MaxActiveRuns, 3},
		{"extract retries from defaults", extract.Retries, 2},
		{"check retries overridden", check.Retries, 0},
		{"check pool overridden", check.Pool, "trino"},
		{"publish pool from defaults", publish.Pool, "lakehouse"},
		{"publish timeout", publish.Timeout, 30 * time.Second},
		{"extract timeout from defaults", extract.Timeout, 5 * time.Minute},
		{"backoff", extract.ExponentialBackoff, true},
		{"downstream of extract", strings.Join(extract.Downstream, ","), "check,publish"},
		{"sql read", strings.HasPrefix(check.SQL, "-- Used by full.good.yaml"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	r, err := extract.Render(TemplateData{Params: map[string]string{"source": "logs"},
		DataIntervalStart: time.Date(2026, 2, 3, 10, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(r.Argv, " "), "task sleep --duration=1ms --since=2026-02-03T10:30:00Z --source=logs"; got != want {
		t.Errorf("argv %q, want %q", got, want)
	}
}

func TestShippedDAGsValidate(t *testing.T) {
	dags, bad, err := LoadDir("../dags", DefaultJobs())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range bad {
		t.Error(e)
	}
	if len(dags) < 4 {
		t.Errorf("%d shipped DAGs, want at least 4 (silver, gold, maintenance, archive)", len(dags))
	}
}

// TestSQLTemplateQuotesStrings: a parameter cannot change a SQL task's
// statement: strings render as quoted literals, quotes doubled.
func TestSQLTemplateQuotesStrings(t *testing.T) {
	tmpl, err := newTemplate("q.sql", `SELECT 1 WHERE s = {{ .Params.source }} AND d = {{ .DAGID }} AND t >= {{ sqlts .DataIntervalStart }}{{ if eq .Params.source "logs" }} AND logs{{ end }}`)
	if err != nil {
		t.Fatal(err)
	}
	task := &Task{ID: "q", sql: tmpl}
	for source, want := range map[string]string{
		"x' OR 1=1 --": `SELECT 1 WHERE s = 'x'' OR 1=1 --' AND d = 'd' AND t >= TIMESTAMP '2026-02-03 10:30:00.000000 UTC'`,
		"logs":         `SELECT 1 WHERE s = 'logs' AND d = 'd' AND t >= TIMESTAMP '2026-02-03 10:30:00.000000 UTC' AND logs`,
	} {
		r, err := task.Render(TemplateData{DAGID: "d", Params: map[string]string{"source": source},
			DataIntervalStart: time.Date(2026, 2, 3, 10, 30, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if r.SQL != want {
			t.Errorf("source %q rendered\n%s\nwant\n%s", source, r.SQL, want)
		}
	}
}
