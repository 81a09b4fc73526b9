-- Web requests per UTC day and status class with response-byte figures;
-- under the web_* views (DESIGN §5.1). Clock-skewed (is_future) rows are left out.
-- @key: day, status_class
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  status_class,
  count(*) AS requests,
  sum(bytes) AS bytes_sum,
  min(bytes) AS bytes_min,
  max(bytes) AS bytes_max
FROM silver.access_logs
WHERE NOT is_future
GROUP BY 1, 2
