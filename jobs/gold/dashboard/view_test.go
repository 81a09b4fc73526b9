package dashboard

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"weir/services/grafana"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                  now,
		"now-6h":               now.Add(-6 * time.Hour),
		"now-7d":               now.Add(-7 * 24 * time.Hour),
		"now-1w":               now.Add(-7 * 24 * time.Hour),
		"1764849600000":        time.UnixMilli(1764849600000).UTC(),
		"2026-12-01T00:00:00Z": time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "now-", "now-x", "now+1h", "now--1h"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func TestInterval(t *testing.T) {
	now := time.Now()
	for span, want := range map[time.Duration]time.Duration{
		time.Hour:                30 * time.Second,
		24 * time.Hour:           5 * time.Minute,
		7 * 24 * time.Hour:       time.Hour,
		90 * 24 * time.Hour:      12 * time.Hour,
		3 * 365 * 24 * time.Hour: 24 * time.Hour,
	} {
		if got := Interval(now.Add(-span), now); got != want {
			t.Errorf("Interval over %v = %v, want %v", span, got, want)
		}
	}
}

func TestJSONValue(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		in   any
		kind string
		want any
	}{
		{ts, "time", ts.UnixMilli()},
		{[]byte("12.5"), "number", 12.5},
		{"0.25", "number", 0.25},
		{"x", "string", "x"},
		{nil, "number", nil},
		{int64(7), "number", int64(7)},
	} {
		if got := jsonValue(c.in, c.kind); got != c.want {
			t.Errorf("jsonValue(%#v, %s) = %#v, want %#v", c.in, c.kind, got, c.want)
		}
	}
	for typ, want := range map[string]string{"timestamp(3) with time zone": "time", "date": "time", "bigint": "number",
		"double": "number", "decimal(12,3)": "number", "varchar": "string", "boolean": "string"} {
		if got := columnKind(typ); got != want {
			t.Errorf("columnKind(%s) = %s, want %s", typ, got, want)
		}
	}
}

// TestViewerRoutes checks what needs no Trino: the list names every
// embedded dashboard, the scripts are served, unknown names are 404 and a
// bad time range is 400.
func TestViewerRoutes(t *testing.T) {
	ds, err := LoadFS(grafana.Dashboards())
	if err != nil {
		t.Fatal(err)
	}
	disk, err := Load(provisioned)
	if err != nil || len(disk) != len(ds) {
		t.Fatalf("embedded %d dashboards, %d on disk (%v)", len(ds), len(disk), err)
	}
	mux := http.NewServeMux()
	NewViewer(ds, nil, slog.Default()).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := get("/dashboards/")
	if code != 200 {
		t.Fatalf("list: %d", code)
	}
	for _, d := range ds {
		if !strings.Contains(body, `href="/dashboards/`+d.UID+`"`) {
			t.Errorf("list does not link %s", d.UID)
		}
	}
	for _, a := range []string{"echarts.min.js", "view.js"} {
		if code, body := get("/dashboards/assets/" + a); code != 200 || len(body) < 1000 {
			t.Errorf("asset %s: %d, %d bytes", a, code, len(body))
		}
	}
	// A dashboard without query variables renders without Trino: every
	// panel asks for its data with the page's range.
	code, body = get("/dashboards/weir-pipeline-health?from=now-6h")
	if code != 200 || !strings.Contains(body, `data-src="/dashboards/weir-pipeline-health/panels/1?from=now-6h"`) {
		t.Errorf("pipeline-health page: %d\n%s", code, body)
	}
	for path, want := range map[string]int{
		"/dashboards/assets/view.html":                     404,
		"/dashboards/nope":                                 404,
		"/dashboards/nope/panels/1":                        404,
		"/dashboards/" + ds[0].UID + "/panels/9999":        404,
		"/dashboards/" + ds[0].UID + "?from=yesterday":     400,
		"/dashboards/" + ds[0].UID + "?from=now&to=now-1h": 400,
	} {
		if code, body := get(path); code != want {
			t.Errorf("%s: %d, want %d (%s)", path, code, want, body)
		}
	}
}
