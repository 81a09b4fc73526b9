-- §5.5: transactions (successful buys), failed buys, page views and revenue
-- per interval; grain is one of 15m, 1h, 3h, 1d.
SELECT
  g.grain,
  CASE g.grain
    WHEN '15m' THEN e.bucket
    WHEN '1h' THEN date_trunc('hour', e.bucket)
    WHEN '3h' THEN date_trunc('day', e.bucket) + (hour(e.bucket) / 3) * INTERVAL '3' HOUR
    ELSE date_trunc('day', e.bucket)
  END AS bucket,
  sum(e.events) FILTER (WHERE e.type = 'buy' AND e.status = 'ok') AS transactions,
  sum(e.events) FILTER (WHERE e.type = 'buy' AND e.status = 'failed') AS failed_buys,
  sum(e.events) FILTER (WHERE e.type = 'page_view') AS page_views,
  sum(e.amount_sum) FILTER (WHERE e.type = 'buy' AND e.status = 'ok') AS revenue
FROM gold.events_15m e
CROSS JOIN (VALUES '15m', '1h', '3h', '1d') AS g (grain)
GROUP BY 1, 2
