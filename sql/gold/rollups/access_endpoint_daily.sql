-- Web requests per UTC day to endpoints that are not static files (path
-- without query string); under web_top_endpoints (DESIGN §5.1).
-- @key: day, endpoint
-- @partitioning: month(day)
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  endpoint,
  count(*) AS requests,
  count_if(status >= 400) AS errors
FROM silver.access_logs
WHERE NOT is_future AND NOT is_static_file AND endpoint IS NOT NULL
GROUP BY 1, 2
