package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"weir/jobs/generate"
	"weir/jobs/gold/dashboard"
)

// Options are `weir load`'s: the run's Config (its Queries come from the
// dashboards), the dashboard directory, the time range ending now
// (generate.ParseSpan's form, e.g. 7d) and the results file ("": none).
type Options struct {
	Config
	Dashboards, Range, Out string
}

// DefaultOptions returns the defaults the command's flags start from.
func DefaultOptions() Options {
	return Options{
		Config:     Config{Clients: 8, Duration: time.Minute, Timeout: time.Minute, Seed: 1},
		Dashboards: "services/grafana/dashboards",
		Range:      "7d",
		Out:        "bench/results/load.json",
	}
}

// RunDashboards runs the panel queries of o.Dashboards for the last
// o.Range on db, prints the latency table to w and writes o.Out.
func RunDashboards(ctx context.Context, o Options, db *sql.DB, w io.Writer) error {
	rng, err := generate.ParseSpan(o.Range)
	if err != nil {
		return fmt.Errorf("--range: %w", err)
	}
	ds, err := dashboard.Load(o.Dashboards)
	if err != nil {
		return err
	}
	cfg := o.Config
	to := time.Now().UTC()
	for _, d := range ds {
		if err := d.ResolveOptions(ctx, db, to.Add(-rng), to); err != nil {
			return fmt.Errorf("dashboard %s: %w", d.UID, err)
		}
	}
	if cfg.Queries, err = DashboardQueries(ds, to.Add(-rng), to); err != nil {
		return err
	}
	rep, err := Run(ctx, db, cfg)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "RUNS\tERR\tP50 ms\tP95 ms\tP99 ms\tMAX ms\t QUERY")
	for _, s := range append(rep.Queries, rep.Total) {
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t %s\n", s.Runs, s.Errors, s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs, s.Name)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d clients, %.0fs, %.1f queries/s\n", rep.Clients, rep.DurationS, rep.QPS)
	if o.Out != "" {
		if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
			return fmt.Errorf("create results dir: %w", err)
		}
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.Out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write load results: %w", err)
		}
	}
	return nil
}
