package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"weir/lakehouse"
)

// newInitCmd prepares the catalog for the jobs: the medallion namespaces.
// The compose stack's weir-init one-shot runs it after buckets, users and
// topics exist; it is idempotent.
func newInitCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "create the lakehouse namespaces (bronze, silver, gold, archive) if missing",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			lh, err := lakehouse.Open(c.Context(), cfg)
			if err != nil {
				return err
			}
			defer lh.Close()
			if err := lh.EnsureNamespaces(c.Context()); err != nil {
				return fmt.Errorf("init lakehouse: %w", err)
			}
			slog.Info("lakehouse ready", "catalog", cfg.Catalog.Name, "namespaces", lakehouse.Namespaces)
			return nil
		},
	}
}
