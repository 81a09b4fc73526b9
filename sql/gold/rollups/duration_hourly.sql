-- Operation durations per hour, service and operation (event type) with a
-- t-digest, so percentiles over any range merge from hours (DESIGN §5.7).
-- @key: bucket, service, operation
-- @partitioning: day(bucket)
-- @time: event_ts
-- @slice: 1h
SELECT
  date_trunc('hour', event_ts) AS bucket,
  service,
  type AS operation,
  count(*) AS operations,
  min(duration_ms) AS duration_ms_min,
  max(duration_ms) AS duration_ms_max,
  sum(duration_ms) AS duration_ms_sum,
  CAST(tdigest_agg(duration_ms) AS varbinary) AS digest
FROM silver.events
WHERE NOT is_future
GROUP BY 1, 2, 3
