package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"weir/jobs/alerts"
)

func newAlertsListCmd(g *globals) *cobra.Command {
	var (
		job, stateDB string
		since        time.Duration
		asJSON       bool
	)
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
			dsn := stateDB
			if dsn == "" {
				dsn = cfg.Scheduler.Database
			}
			st, err := alerts.OpenStore(c.Context(), dsn, job)
			if err != nil {
				return err
			}
			defer st.Close()
			ns, err := st.Notifications(c.Context(), time.Now().Add(-since))
			if err != nil {
				return err
			}
			eps := alerts.Episodes(ns)
			w := c.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(eps)
			}
			fmt.Fprintf(w, "%-9s %-24s %-22s %-22s %-40s %s\n", "STATE", "RULE", "START", "END", "LABELS", "VALUES")
			for _, e := range eps {
				state, end := "firing", ""
				if !e.End.IsZero() {
					state, end = "resolved", e.End.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%-9s %-24s %-22s %-22s %-40s %v\n", state, e.Rule, e.Start.UTC().Format(time.RFC3339), end, labelString(e.Labels), e.Values)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&job, "job", "alerts", "job whose alerts to list")
	fl.StringVar(&stateDB, "state-db", "", "PostgreSQL DSN of the job state (default: scheduler.database)")
	fl.DurationVar(&since, "since", 24*time.Hour, "alerts whose notifications were stored this recently")
	fl.BoolVar(&asJSON, "json", false, "print the episodes as JSON")
	return cmd
}
