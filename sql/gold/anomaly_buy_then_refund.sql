-- §5.9: a refund of an item by the user who bought it (successful buy) at
-- most 10 minutes before, strictly earlier (the sequence of the BuyThenRefund
-- alert rule, as the engine matches it; docs/alerts.md), one row per buy and
-- refund, from the buy_then_refund rollup.
SELECT user_id, item, buy_action_id, refund_action_id, bought_at, refunded_at, seconds_between, amount
FROM gold.buy_then_refund
