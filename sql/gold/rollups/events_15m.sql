-- App events per 15 minutes, service, type and status, with distinct users,
-- amounts and durations; under the transactions, page-view and event-count
-- views (DESIGN §5.3, §5.5).
-- @key: bucket, service, type, status
-- @partitioning: day(bucket)
-- @time: event_ts
-- @slice: 15m
SELECT
  date_trunc('hour', event_ts) + (minute(event_ts) / 15) * INTERVAL '15' MINUTE AS bucket,
  service,
  type,
  status,
  count(*) AS events,
  count(DISTINCT user_id) AS users,
  coalesce(sum(amount), 0) AS amount_sum,
  sum(duration_ms) AS duration_ms_sum
FROM silver.events
WHERE NOT is_future
GROUP BY 1, 2, 3, 4
