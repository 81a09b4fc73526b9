-- Web requests per UTC day to endpoints that are not static files (path
-- without query string); under web_top_endpoints (DESIGN §5.1).
-- Hot and archive tiers (a row mid-move counts once, as in access_logs_all):
-- a rollup rebuilt in full after days were archived (a changed definition,
-- a lost table) must still count them, and a replayed historical log is
-- archived at once.
-- @key: day, endpoint
-- @partitioning: month(day)
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  endpoint,
  count(*) AS requests,
  count_if(status >= 400) AS errors
FROM (
  SELECT event_ts, endpoint, status, is_static_file
  FROM silver.access_logs
  WHERE NOT is_future
  UNION ALL
  SELECT a.event_ts, a.endpoint, a.status, a.is_static_file
  FROM archive.access_logs a
  WHERE NOT a.is_future
    AND NOT EXISTS (SELECT 1 FROM silver.access_logs h WHERE h.source_topic = a.source_topic AND h.source_partition = a.source_partition AND h.source_offset = a.source_offset)
) tiers
WHERE NOT is_static_file AND endpoint IS NOT NULL
GROUP BY 1, 2
