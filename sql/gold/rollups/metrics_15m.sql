-- Host CPU and memory per 15 minutes (DESIGN §5.8).
-- @key: bucket, host
-- @partitioning: day(bucket)
-- @time: event_ts
-- @slice: 15m
SELECT
  date_trunc('hour', event_ts) + (minute(event_ts) / 15) * INTERVAL '15' MINUTE AS bucket,
  host,
  arbitrary(service) AS service,
  count(*) AS samples,
  avg(cpu_pct) AS cpu_pct_avg,
  max(cpu_pct) AS cpu_pct_max,
  avg(mem_bytes) AS mem_bytes_avg,
  max(mem_bytes) AS mem_bytes_max,
  sum(requests) AS requests
FROM silver.metrics
WHERE NOT is_future
GROUP BY 1, 2
