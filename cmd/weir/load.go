package main

import (
	"os"

	"github.com/spf13/cobra"

	"weir/jobs/load"
	"weir/trino"
)

func newLoadCmd(g *globals) *cobra.Command {
	o := load.DefaultOptions()
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
			db, err := trino.Open(conf.Trino)
			if err != nil {
				return err
			}
			defer db.Close()
			return load.RunDashboards(c.Context(), o, db, os.Stdout)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Clients, "clients", o.Clients, "concurrent clients")
	f.DurationVar(&o.Duration, "duration", o.Duration, "how long to run")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "bound of one query")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the clients' query order")
	f.StringVar(&o.Dashboards, "dashboards", o.Dashboards, "directory of the dashboard JSON whose panel queries make the mix")
	f.StringVar(&o.Range, "range", o.Range, "dashboard time range ending now (e.g. 6h, 7d)")
	f.StringVar(&o.Out, "out", o.Out, "write the results as JSON here (empty: don't)")
	return cmd
}
