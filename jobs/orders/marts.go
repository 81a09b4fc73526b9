package orders

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"weir/trino"
)

// DefaultStatusField is the app.events field (kept in silver's extra column)
// that carries an order's status for MartsConfig.FinalStatuses.
const DefaultStatusField = "order_status"

// MartsConfig says where the marts are built and when an order is closed.
type MartsConfig struct {
	Catalog string
	Silver  string // schema of silver.events and silver.dim_items
	Gold    string // schema of gold.orders and the mart views
	// FinalStatuses, when set, close an order only once one of its events
	// carries one of them in StatusField (a restaurant's "served"); empty:
	// a buy with status ok closes it. A refund always reopens nothing: a
	// refunded order never counts.
	FinalStatuses []string
	StatusField   string
}

// DefaultMartsConfig builds in the medallion schemas, closing orders on buy.
func DefaultMartsConfig(catalog string) MartsConfig {
	return MartsConfig{Catalog: catalog, Silver: "silver", Gold: "gold", StatusField: DefaultStatusField}
}

// Validate names the bad field.
func (c MartsConfig) Validate() error {
	switch {
	case c.Catalog == "" || c.Silver == "" || c.Gold == "":
		return fmt.Errorf("marts: catalog, silver and gold schemas are required")
	case c.StatusField == "":
		return fmt.Errorf("marts: status field is required")
	}
	for _, s := range c.FinalStatuses {
		if s == "" {
			return fmt.Errorf("marts: final status: empty")
		}
	}
	return nil
}

// Mart views over gold.orders (names in the gold schema).
const (
	ViewUserItem     = "orders_by_user_item"
	ViewUserCategory = "orders_by_user_category"
	TableOrders      = "orders"
)

// MartsResult is what one run did.
type MartsResult struct {
	Orders int64         `json:"orders"` // rows of gold.orders after the run
	Closed int64         `json:"closed"`
	Took   time.Duration `json:"took_ns"`
}

// Marts runs the upsert and the views (see the package contract).
func Marts(ctx context.Context, db *sql.DB, cfg MartsConfig, log *slog.Logger) (MartsResult, error) {
	var res MartsResult
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	start := time.Now()
	ddl, merge := martStatements(cfg)
	for _, stmt := range append(append(ddl[:2:2], merge), ddl[2:]...) {
		if err := trino.Retry(ctx, func() error { return trino.Exec(ctx, db, stmt) }); err != nil {
			return res, fmt.Errorf("order marts: %s: %w", firstLine(stmt), err)
		}
	}
	q := fmt.Sprintf("SELECT count(*), count_if(closed) FROM %s", cfg.table(cfg.Gold, TableOrders))
	if err := db.QueryRowContext(ctx, q).Scan(&res.Orders, &res.Closed); err != nil {
		return res, fmt.Errorf("count orders: %w", err)
	}
	res.Took = time.Since(start)
	log.Info("order marts", "table", cfg.table(cfg.Gold, TableOrders), "orders", res.Orders, "closed", res.Closed,
		"took", res.Took.Round(time.Millisecond))
	return res, nil
}

func (c MartsConfig) table(schema, name string) string {
	return trino.Qualified(c.Catalog, schema, name)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// EnsureMarts creates the gold schema, gold.orders and the mart views where
// missing (the views replaced), without reading silver: gold apply (weir
// init, weir gold apply) runs it first, so readers never depend on the job
// having run and the gold views may read gold.orders.
func EnsureMarts(ctx context.Context, db *sql.DB, cfg MartsConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	ddl, _ := martStatements(cfg)
	for _, stmt := range ddl {
		if err := trino.Retry(ctx, func() error { return trino.Exec(ctx, db, stmt) }); err != nil {
			return fmt.Errorf("order marts: %s: %w", firstLine(stmt), err)
		}
	}
	return nil
}

// martStatements are the statements of a run: ddl (schema, table, then the
// views) and the merge, which goes after the table and before the views.
func martStatements(c MartsConfig) (ddl []string, merge string) {
	orders := c.table(c.Gold, TableOrders)
	finals := "CAST(NULL AS varchar)"
	closed := "s.bought"
	if len(c.FinalStatuses) > 0 {
		finals = fmt.Sprintf("max(order_status) FILTER (WHERE order_status IN (%s))", trino.List(c.FinalStatuses))
		closed = "s.final_status IS NOT NULL"
	}
	// The source is every order of silver.events, as the new state of the
	// row: merged with what the table holds so a flag once seen stays (the
	// buy may have moved to the archive tier, or come in an earlier run).
	source := fmt.Sprintf(`WITH ev AS (
  SELECT coalesce(order_id, action_id) AS order_id, user_id, item, amount, currency, event_ts, type, status,
    json_extract_scalar(element_at(extra, %[3]s), '$') AS order_status
  FROM %[1]s
  WHERE NOT is_future AND (order_id IS NOT NULL OR type = 'buy')
), o AS (
  SELECT order_id,
    coalesce(max(user_id) FILTER (WHERE type = 'buy'), max(user_id)) AS user_id,
    coalesce(max(item) FILTER (WHERE type = 'buy'), max(item)) AS item,
    max(amount) FILTER (WHERE type = 'buy' AND status = 'ok') AS buy_amount,
    max(amount) FILTER (WHERE type <> 'refund') AS any_amount,
    coalesce(max(currency) FILTER (WHERE type = 'buy'), max(currency)) AS currency,
    coalesce(min(event_ts) FILTER (WHERE type = 'buy' AND status = 'ok'), min(event_ts)) AS ordered_at,
    bool_or(type = 'buy' AND status = 'ok') AS bought,
    bool_or(type = 'refund' AND status = 'ok') AS refunded,
    %[4]s AS final_status
  FROM ev
  GROUP BY order_id
)
SELECT o.order_id,
  coalesce(t.user_id, o.user_id) AS user_id,
  coalesce(t.item, o.item) AS item,
  d.name AS item_name,
  d.category AS category,
  coalesce(o.buy_amount, t.amount, o.any_amount) AS amount,
  coalesce(t.currency, o.currency) AS currency,
  CASE WHEN t.ordered_at IS NULL OR o.ordered_at < t.ordered_at THEN o.ordered_at ELSE t.ordered_at END AS ordered_at,
  o.bought OR coalesce(t.bought, false) AS bought,
  o.refunded OR coalesce(t.refunded, false) AS refunded,
  coalesce(o.final_status, t.final_status) AS final_status
FROM o
LEFT JOIN %[5]s t ON t.order_id = o.order_id
LEFT JOIN %[2]s d ON d.item = coalesce(t.item, o.item)`,
		c.table(c.Silver, "events"), c.table(c.Silver, "dim_items"), trino.String(c.StatusField), finals, orders)
	cols := []string{"user_id", "item", "item_name", "category", "amount", "currency", "ordered_at", "bought", "refunded", "final_status", "closed"}
	var differ, set, vals []string
	for _, col := range cols {
		differ = append(differ, fmt.Sprintf("t.%[1]s IS DISTINCT FROM s.%[1]s", col))
		set = append(set, fmt.Sprintf("%[1]s = s.%[1]s", col))
		vals = append(vals, "s."+col)
	}
	merge = fmt.Sprintf(`MERGE INTO %s t USING (
SELECT s.*, NOT s.refunded AND %s AS closed FROM (
%s
) s
) s
ON t.order_id = s.order_id
WHEN MATCHED AND (%s) THEN UPDATE SET %s, updated_at = current_timestamp
WHEN NOT MATCHED THEN INSERT (order_id, %s, updated_at) VALUES (s.order_id, %s, current_timestamp)`,
		orders, closed, source, strings.Join(differ, " OR "), strings.Join(set, ", "),
		strings.Join(cols, ", "), strings.Join(vals, ", "))

	mart := func(view, cols, keys, name string) string {
		return fmt.Sprintf(`CREATE OR REPLACE VIEW %s COMMENT %s AS
SELECT user_id, %s,
  count(*) AS orders,
  sum(amount) AS amount,
  min(ordered_at) AS first_order_at,
  max(ordered_at) AS last_order_at
FROM %s
WHERE closed
GROUP BY user_id, %s`, c.table(c.Gold, view), trino.String(name), cols, orders, keys)
	}
	return []string{
		fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s", trino.Qualified(c.Catalog, c.Gold)),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  order_id varchar NOT NULL,
  user_id varchar,
  item varchar,
  item_name varchar,
  category varchar,
  amount double,
  currency varchar,
  ordered_at timestamp(6) with time zone,
  bought boolean,
  refunded boolean,
  final_status varchar,
  closed boolean,
  updated_at timestamp(6) with time zone
) COMMENT 'orders by order id, upserted by weir batch orders (jobs/orders)'`, orders),
		mart(ViewUserItem, "item, item_name, category", "item, item_name, category", "closed orders per user and item (jobs/orders)"),
		mart(ViewUserCategory, "coalesce(category, 'unknown') AS category", "coalesce(category, 'unknown')", "closed orders per user and item category (jobs/orders)"),
	}, merge
}
