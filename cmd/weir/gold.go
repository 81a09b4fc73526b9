package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"weir/config"
	"weir/jobs/gold"
	"weir/trino"
)

// newGoldCmd wires `weir gold apply|refresh|maintain|list`.
func newGoldCmd(g *globals) *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gold",
		Short: "create the gold views and refresh the gold rollups in Trino",
		Example: `  weir gold apply
  weir gold refresh
  weir gold maintain
  weir gold list --json`,
	}
	cmd.PersistentFlags().StringVar(&dir, "sql", "", "directory of the gold SQL (default: the copy built into weir, from sql/gold)")
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print the results as JSON")

	run := func(c *cobra.Command, do func(r *gold.Runner, defs []*gold.Definition) ([]gold.Result, error), ensure bool) error {
		cfg, err := g.load()
		if err != nil {
			return err
		}
		defs, err := gold.Definitions(dir)
		if err != nil {
			return err
		}
		if ensure {
			lake, err := openLake(c.Context(), cfg)
			if err != nil {
				return err
			}
			err = gold.EnsureSources(c.Context(), lake, gold.Target{Catalog: cfg.Trino.Catalog})
			lake.Close()
			if err != nil {
				return err
			}
		}
		r, closeTrino, err := goldRunner(cfg)
		if err != nil {
			return err
		}
		defer closeTrino()
		results, err := do(r, defs)
		printResults(results, asJSON)
		return err
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "apply",
			Short: "create or replace every gold view and rollup table (idempotent; reports what changed)",
			Example: `  weir gold apply
  weir gold apply --sql sql/gold --json`,
			Long: `apply creates the silver and archive tables the views read if they do not exist
yet, gold.orders and the order mart views (jobs/orders), then every rollup table (built in full when new or changed) and every
view (created when missing, replaced when its SQL changed or it no longer
analyzes) in dependency order, and reports each as created, replaced or
unchanged.`,
			RunE: func(c *cobra.Command, _ []string) error {
				return run(c, func(r *gold.Runner, defs []*gold.Definition) ([]gold.Result, error) {
					return r.Apply(c.Context(), defs)
				}, true)
			},
		},
		&cobra.Command{
			Use:     "refresh",
			Short:   "recompute the days of every gold rollup whose silver sources changed",
			Example: `  weir gold refresh`,
			RunE: func(c *cobra.Command, _ []string) error {
				return run(c, func(r *gold.Runner, defs []*gold.Definition) ([]gold.Result, error) {
					return r.Refresh(c.Context(), defs)
				}, false)
			},
		},
		maintainCmd(run),
		&cobra.Command{
			Use:     "list",
			Short:   "list the gold definitions in apply order",
			Example: `  weir gold list`,
			RunE: func(c *cobra.Command, _ []string) error {
				defs, err := gold.Definitions(dir)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tKIND\tREADS\tDESCRIPTION")
				for _, d := range defs {
					reads := append(append([]string{}, d.Sources...), prefixed("gold.", d.Deps)...)
					fmt.Fprintf(w, "%s\t%s\t%v\t%s\n", d.Name, d.Kind, reads, d.Description)
				}
				return w.Flush()
			},
		},
	)
	return cmd
}

// maintainCmd is `weir gold maintain`: compaction and expiry of the gold
// tables through Trino (gold.Runner.Maintain).
func maintainCmd(run func(*cobra.Command, func(*gold.Runner, []*gold.Definition) ([]gold.Result, error), bool) error) *cobra.Command {
	retention := gold.DefaultRetention
	cmd := &cobra.Command{
		Use:   "maintain",
		Short: "compact the gold tables (rollups, rollup_state, orders) and expire their old snapshots and orphan files",
		Example: `  weir gold maintain
  weir gold maintain --retention 240h`,
		Long: `maintain runs Trino's optimize on every gold table weir writes (each rollup,
gold.rollup_state and gold.orders: their MERGEs add small data and delete
files at every refresh), then expire_snapshots and remove_orphan_files with
the retention given (at least Trino's minimum, 7 days by default). The
maintenance DAG runs it hourly.`,
		RunE: func(c *cobra.Command, _ []string) error {
			return run(c, func(r *gold.Runner, defs []*gold.Definition) ([]gold.Result, error) {
				return r.Maintain(c.Context(), defs, retention)
			}, false)
		},
	}
	cmd.Flags().DurationVar(&retention, "retention", retention, "keep snapshots and unreferenced files this long")
	return cmd
}

func prefixed(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + x
	}
	return out
}

func printResults(results []gold.Result, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tKIND\tCHANGE\tDAYS\tTOOK\tREASON")
	for _, r := range results {
		days := ""
		if r.Days > 0 {
			days = fmt.Sprint(r.Days)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Kind, r.Change, days, r.Duration.Round(time.Millisecond), r.Reason)
	}
	w.Flush()
	fmt.Println(gold.SummaryLine(results))
}

// goldRunner is the gold runner of the medallion schemas on the configured
// Trino; closeTrino closes its connection.
func goldRunner(cfg config.Config) (r *gold.Runner, closeTrino func() error, err error) {
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		return nil, nil, err
	}
	return &gold.Runner{DB: db, Target: gold.Target{Catalog: cfg.Trino.Catalog}, Log: slog.Default()}, db.Close, nil
}
