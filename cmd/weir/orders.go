package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"weir/jobs/orders"
	"weir/trino"
)

// newBatchEnrichCmd is `weir batch enrich`: one micro-batch of
// app.events → app.events.enriched (jobs/orders).
func newBatchEnrichCmd(g *globals) *cobra.Command {
	ec := orders.DefaultEnrichConfig()
	cmd := &cobra.Command{
		Use:   "enrich",
		Short: "enrich the app.events added since the last run into app.events.enriched (items' names and categories)",
		Example: `  weir batch enrich
  weir batch enrich --group weir-enrich-backfill`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			res, err := orders.Enrich(cmd.Context(), cfg.Kafka, ec, slog.Default())
			if perr := printJSON(cmd, res); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&ec.Events, "events-topic", ec.Events, "topic of the app events to enrich")
	f.StringVar(&ec.DimItems, "items-topic", ec.DimItems, "compacted topic of the item dimension")
	f.StringVar(&ec.Out, "out-topic", ec.Out, "topic of the enriched events (contract in the README)")
	f.StringVar(&ec.Group, "group", ec.Group, "consumer group whose committed offsets say what was enriched")
	return cmd
}

// newBatchOrdersCmd is `weir batch orders`: the upsert of gold.orders by
// order id and the order mart views, through Trino (jobs/orders).
func newBatchOrdersCmd(g *globals) *cobra.Command {
	var (
		mc     = orders.DefaultMartsConfig("")
		finals []string
	)
	cmd := &cobra.Command{
		Use:   "orders",
		Short: "upsert gold.orders by order id from silver.events and refresh the order marts",
		Example: `  weir batch orders
  # a restaurant: an order counts once served (and not refunded)
  weir batch orders --final-status served --status-field order_status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			mc.Catalog, mc.FinalStatuses = cfg.Trino.Catalog, finals
			if err := mc.Validate(); err != nil {
				return err
			}
			db, err := trino.Open(cfg.Trino)
			if err != nil {
				return err
			}
			defer func() { _ = db.Close() }()
			res, err := orders.Marts(cmd.Context(), db, mc, slog.Default())
			if perr := printJSON(cmd, res); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&finals, "final-status", nil, "order statuses that close an order (repeatable); none: a successful buy closes it")
	f.StringVar(&mc.StatusField, "status-field", mc.StatusField, "app.events field that carries an order's status")
	f.StringVar(&mc.Silver, "silver-schema", mc.Silver, "Trino schema of silver.events and silver.dim_items")
	f.StringVar(&mc.Gold, "gold-schema", mc.Gold, "Trino schema of gold.orders and the mart views")
	return cmd
}
