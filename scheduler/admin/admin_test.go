package admin

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"weir/config"
)

func TestParseTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-03-02", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), true},
		{"2026-03-02T10:30:00", time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC), true},
		{"2026-03-02T10:30:00+02:00", time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), true},
		{"yesterday", time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseTime(c.in)
			if (err == nil) != c.ok || !got.Equal(c.want) {
				t.Errorf("ParseTime(%q) = %v, %v", c.in, got, err)
			}
		})
	}
}

// TestValidate: the shipped DAGs pass, a bad file fails naming itself, and
// --dags spares loading the configuration.
func TestValidate(t *testing.T) {
	noConfig := func() (config.Config, error) { return config.Config{}, errors.New("no config wanted") }
	var out bytes.Buffer
	a := &Admin{Load: noConfig, DAGDir: "../../dags", Out: &out}
	if err := a.Validate(nil); err != nil {
		t.Fatalf("shipped DAGs: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok   ") || strings.Contains(out.String(), "FAIL") {
		t.Errorf("shipped DAGs:\n%s", out.String())
	}
	out.Reset()
	err := a.Validate([]string{"../testdata/full.good.yaml", "../testdata/cycle.bad.yaml"})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 DAG files invalid") || !strings.Contains(out.String(), "FAIL ../testdata/cycle.bad.yaml:") {
		t.Errorf("one bad file: %v\n%s", err, out.String())
	}
}
