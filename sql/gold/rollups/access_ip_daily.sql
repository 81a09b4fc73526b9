-- Web requests per UTC day and client IP; under web_top_client_ips and
-- web_distinct_client_ips (DESIGN §5.1).
-- Hot and archive tiers (a row mid-move counts once, as in access_logs_all):
-- a rollup rebuilt in full after days were archived (a changed definition,
-- a lost table) must still count them, and a replayed historical log is
-- archived at once.
-- @key: day, client_ip
-- @partitioning: month(day)
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  client_ip,
  count(*) AS requests,
  -- bytes logged as "-" or cut from a truncated line are null: not summed
  sum(bytes) AS bytes
FROM (
  SELECT event_ts, client_ip, bytes
  FROM silver.access_logs
  WHERE NOT is_future
  UNION ALL
  SELECT a.event_ts, a.client_ip, a.bytes
  FROM archive.access_logs a
  WHERE NOT a.is_future
    AND NOT EXISTS (SELECT 1 FROM silver.access_logs h WHERE h.source_topic = a.source_topic AND h.source_partition = a.source_partition AND h.source_offset = a.source_offset)
) tiers
GROUP BY 1, 2
