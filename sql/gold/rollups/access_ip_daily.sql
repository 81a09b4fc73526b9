-- Web requests per UTC day and client IP; under web_top_client_ips and
-- web_distinct_client_ips (DESIGN §5.1).
-- @key: day, client_ip
-- @partitioning: month(day)
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  client_ip,
  count(*) AS requests,
  -- bytes logged as "-" or cut from a truncated line are null: not summed
  sum(bytes) AS bytes
FROM silver.access_logs
WHERE NOT is_future
GROUP BY 1, 2
