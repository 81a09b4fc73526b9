package web

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"weir/scheduler"
)

// FuzzAPIBodies: any body of the trigger, clear and backfill calls is
// decoded or refused as a bad request; what decodes goes through the pure
// part of the action (params rendered into the tasks, backfill intervals
// listed, capped) without a panic.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range []string{`{}`, `{"params": {"who": "x"}}`, `{"params": {"who": "it's'; DROP TABLE x; --"}, "logical_date": "2026-01-01T00:00:00Z"}`,
		`{"tasks": ["greet"], "downstream": true}`, `{"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "reprocess": "failed"}`,
		`{"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}`, `{"bogus": 1}`, `[`} {
		f.Add([]byte(s))
	}
	d, err := scheduler.Parse("hourly.yaml", []byte(`
id: hourly
schedule: "@hourly"
start_date: 2026-01-01
params: {who: nobody}
tasks:
  - {id: greet, job: task sleep, args: ["--message=hello {{ .Params.who }}"]}
`), scheduler.DefaultJobs())
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var tr TriggerRequest
		if decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &tr) == nil {
			params := map[string]string{}
			for k, v := range d.Params {
				params[k] = v
			}
			for k, v := range tr.Params {
				params[k] = v
			}
			for _, task := range d.Tasks {
				_, _ = task.Render(scheduler.TemplateData{DAGID: d.ID, Params: params, LogicalDate: tr.LogicalDate})
			}
		}
		var cr ClearRequest
		_ = decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &cr)
		var br BackfillRequest
		if decodeBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &br) == nil {
			_, _ = d.BackfillIntervals(br.From, br.To, now)
		}
	})
}
