package main

import (
	"github.com/spf13/cobra"

	"weir/jobs/alerts"
)

func newAlertsListCmd(g *globals) *cobra.Command {
	o := alerts.DefaultListOptions()
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list the alerts a job raised: firing ones and those resolved recently, with labels, values and times",
		Example: `  weir alerts list
  # the last week of a second job, as JSON
  weir alerts list --job canary --since 168h --json`,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			return alerts.List(c.Context(), cfg, o, c.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Job, "job", o.Job, "job whose alerts to list")
	fl.StringVar(&o.StateDB, "state-db", "", "PostgreSQL DSN of the job state (default: scheduler.database)")
	fl.DurationVar(&o.Since, "since", o.Since, "alerts whose notifications were stored this recently")
	fl.BoolVar(&o.JSON, "json", false, "print the episodes as JSON")
	return cmd
}
