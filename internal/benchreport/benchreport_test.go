package benchreport

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFillAndGet(t *testing.T) {
	doc := map[string]any{
		"a":        map[string]any{"b": 1.5},
		"tables":   map[string]any{"bronze.web_access": map[string]any{"rows": 3.0}},
		"measured": "2026-12-04T10:00:00Z",
		"live":     []any{map[string]any{"n": 1.0}, map[string]any{"n": 2.0}},
	}
	tests := []struct {
		show, want, err string
	}{
		{"{a.b|%.2f} x", "1.50 x", ""},
		{"{tables.bronze.web_access.rows|%.0f}", "3", ""},
		{"{measured}", "2026-12-04T10:00:00Z", ""},
		{"{live.1.n|%.0f}", "2", ""},
		{"{live.2.n}", "", "no field live.2.n"},
		{"{a.c}", "", "no field a.c"},
		{"{a.b", "", "unclosed"},
	}
	for _, tt := range tests {
		t.Run(tt.show, func(t *testing.T) {
			got, err := Fill(tt.show, doc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestMachine(t *testing.T) {
	doc := map[string]any{"machine": map[string]any{"cpus": 2.0, "loadavg": "7.36 6.76 4.64 2/609 20768"}, "measured_at": "2026-11-22T00:51:23Z"}
	if got, want := Machine(doc), "2 CPUs, load 7.36, 2026-11-22"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// The committed results files hold every field the table shows: a renamed
// field fails here, not as a stale README.
func TestCommittedResults(t *testing.T) {
	dir := filepath.Join("..", "..", "bench", "results")
	table, err := Table(dir, Figures)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(table, "\n"); n < 4 {
		t.Fatalf("table has %d lines:\n%s", n, table)
	}
	if strings.Contains(table, "%!") {
		t.Fatalf("bad format in table:\n%s", table)
	}
}

func TestSplice(t *testing.T) {
	doc := []byte("x\n<!-- perf:begin -->\nold\n<!-- perf:end -->\ny\n")
	got, err := Splice(doc, "perf", "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "x\n<!-- perf:begin -->\nnew\n<!-- perf:end -->\ny\n"; string(got) != want {
		t.Fatalf("got %q", got)
	}
	if _, err := Splice([]byte("none"), "perf", ""); err == nil {
		t.Fatal("no markers: want an error")
	}
}
