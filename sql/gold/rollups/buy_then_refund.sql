-- Refunds of an item by the user who bought it (successful buy) at most 10
-- minutes before, strictly earlier: the sequence of the BuyThenRefund alert
-- rule, as the engine matches it (docs/alerts.md), one row per buy and
-- refund, under the anomaly_buy_then_refund view (DESIGN §5.9). A refund
-- names the order it returns (order_id, the buy's action_id); one without
-- (older data) matches any buy of the item in the window. Each row is
-- keyed by its buy, whose 10 minutes of events it reads (@window), so a
-- refresh recomputes the buys of the slices that changed and of the slice
-- before them.
-- @key: bought_at, buy_action_id, refund_action_id
-- @partitioning: day(bought_at)
-- @time: event_ts
-- @window: bought_at, 10m0s
-- @slice: 15m
SELECT r.user_id, r.item, b.action_id AS buy_action_id, r.action_id AS refund_action_id,
       b.event_ts AS bought_at, r.event_ts AS refunded_at,
       date_diff('second', b.event_ts, r.event_ts) AS seconds_between, b.amount
FROM silver.events r
JOIN silver.events b
  ON b.user_id = r.user_id AND b.item = r.item AND b.type = 'buy' AND b.status = 'ok'
 AND b.event_ts < r.event_ts AND b.event_ts >= r.event_ts - INTERVAL '10' MINUTE
 AND (r.order_id IS NULL OR r.order_id = b.action_id)
WHERE r.type = 'refund' AND r.service = 'orders' AND NOT r.is_future AND NOT b.is_future
