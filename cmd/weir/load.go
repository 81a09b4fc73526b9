package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"weir/jobs/gold/dashboard"
	"weir/jobs/load"
	"weir/trino"
)

func newLoadCmd(g *globals) *cobra.Command {
	cfg := load.Config{Clients: 8, Duration: time.Minute, Timeout: time.Minute, Seed: 1}
	var dashDir, out, span string
	cmd := &cobra.Command{
		Use:   "load",
		Short: "run a mix of gold (dashboard) queries on Trino with N clients and report latency percentiles",
		Long: `load renders every panel query of the Grafana dashboards (--dashboards) for
the last --range, with the saved variable values, and has --clients
concurrent clients run them in random order for --duration. It prints and
writes (--out) p50/p95/p99 latency and error counts per query.`,
		Example: `  weir load --clients 8 --duration 2m --out bench/results/load.json`,
		RunE: func(c *cobra.Command, _ []string) error {
			conf, err := g.load()
			if err != nil {
				return err
			}
			rng, err := parseSpan(span)
			if err != nil {
				return fmt.Errorf("--range: %w", err)
			}
			ds, err := dashboard.Load(dashDir)
			if err != nil {
				return err
			}
			db, err := trino.Open(conf.Trino)
			if err != nil {
				return err
			}
			defer db.Close()
			to := time.Now().UTC()
			for _, d := range ds {
				if err := d.ResolveOptions(c.Context(), db, to.Add(-rng), to); err != nil {
					return fmt.Errorf("dashboard %s: %w", d.UID, err)
				}
			}
			if cfg.Queries, err = load.DashboardQueries(ds, to.Add(-rng), to); err != nil {
				return err
			}
			rep, err := load.Run(c.Context(), db, cfg)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "RUNS\tERR\tP50 ms\tP95 ms\tP99 ms\tMAX ms\t QUERY")
			for _, s := range append(rep.Queries, rep.Total) {
				fmt.Fprintf(w, "%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t %s\n", s.Runs, s.Errors, s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs, s.Name)
			}
			w.Flush()
			fmt.Printf("%d clients, %.0fs, %.1f queries/s\n", rep.Clients, rep.DurationS, rep.QPS)
			if out != "" {
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return fmt.Errorf("create results dir: %w", err)
				}
				b, _ := json.MarshalIndent(rep, "", "  ")
				if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
					return fmt.Errorf("write load results: %w", err)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to run")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound of one query")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the clients' query order")
	f.StringVar(&dashDir, "dashboards", "services/grafana/dashboards", "directory of the dashboard JSON whose panel queries make the mix")
	f.StringVar(&span, "range", "7d", "dashboard time range ending now (e.g. 6h, 7d)")
	f.StringVar(&out, "out", "bench/results/load.json", "write the results as JSON here (empty: don't)")
	return cmd
}

// parseSpan reads a duration that may use d for days.
func parseSpan(s string) (time.Duration, error) {
	if n := len(s); n > 1 && s[n-1] == 'd' {
		var days int
		if _, err := fmt.Sscanf(s[:n-1], "%d", &days); err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
