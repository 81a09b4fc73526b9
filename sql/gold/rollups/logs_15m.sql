-- Application log lines per 15 minutes, service and level (DESIGN §5.3).
-- @key: bucket, service, level
-- @partitioning: day(bucket)
-- @time: event_ts
-- @slice: 15m
SELECT
  date_trunc('hour', event_ts) + (minute(event_ts) / 15) * INTERVAL '15' MINUTE AS bucket,
  service,
  level,
  count(*) AS lines
FROM silver.logs
WHERE NOT is_future
GROUP BY 1, 2, 3
