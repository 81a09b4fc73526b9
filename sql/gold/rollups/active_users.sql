-- Distinct users per interval (15m, 1h, 3h, 1d): active (any event),
-- viewing (a page view) and buying (a successful buy). Distinct counts do
-- not add up across intervals, so each grain is computed exactly (DESIGN §5.4).
-- @key: grain, bucket
-- @partitioning: day(bucket)
-- @time: event_ts
SELECT
  g.grain,
  CASE g.grain
    WHEN '15m' THEN date_trunc('hour', e.event_ts) + (minute(e.event_ts) / 15) * INTERVAL '15' MINUTE
    WHEN '1h' THEN date_trunc('hour', e.event_ts)
    WHEN '3h' THEN date_trunc('day', e.event_ts) + (hour(e.event_ts) / 3) * INTERVAL '3' HOUR
    ELSE date_trunc('day', e.event_ts)
  END AS bucket,
  count(DISTINCT e.user_id) AS active_users,
  count(DISTINCT e.user_id) FILTER (WHERE e.type = 'page_view') AS viewing_users,
  count(DISTINCT e.user_id) FILTER (WHERE e.type = 'buy' AND e.status = 'ok') AS buying_users
FROM silver.events e
CROSS JOIN (VALUES '15m', '1h', '3h', '1d') AS g (grain)
WHERE NOT e.is_future AND e.user_id IS NOT NULL
GROUP BY 1, 2
