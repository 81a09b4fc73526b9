//go:build integration

package demo

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/jobs/gold"
)

// TestDemoEndToEnd builds the weir binary and runs the demo path on the
// local stack with a short history: Kafka → stream → bronze → silver DAG →
// gold, the alert job over the same traffic, and the printed answers. Every
// section must answer (no failed query), within the 5-minute budget.
// The views' correctness against the generator is jobs/gold's integration
// test; this one proves the orchestration.
func TestDemoEndToEnd(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "weir")
	build := exec.Command("go", "build", "-o", bin, "weir/cmd/weir")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build weir: %v\n%s", err, out)
	}
	db, err := gold.OpenTrino(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	d, err := New(Options{
		Binary: bin, Dir: filepath.Join("..", ".."), History: 6 * time.Hour, Rate: 2, AnomalyEvery: time.Hour,
		DAGDir: filepath.Join("..", "..", "dags"), WorkDir: t.TempDir(), Kafka: cfg.Kafka, Out: &out,
		TrinoURL: cfg.Trino.URL, SchedulerURL: "http://" + cfg.Scheduler.Listen,
	}, db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := d.Run(ctx); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	took := time.Since(start)
	text := out.String()
	for _, want := range []string{
		"top 10 client IPs", "6 most requested endpoints", "distinct client IPs and days of data",
		"response bytes by status class", "weekday with the most 4xx", "Business · per day",
		"Alerts raised by this demo's alert job", "Where to look next", "demo finished",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(text, "query failed") {
		t.Errorf("a section's query failed:\n%s", text)
	}
	t.Logf("demo took %s\n%s", took.Round(time.Second), text)
}
