-- Web requests per UTC day and status class with response-byte figures;
-- under the web_* views (DESIGN §5.1). Records stamped in the future are in
-- silver.rejects (class future), not here: is_future is always false.
-- bytes is null where the line logged "-" or was cut before its bytes
-- (parse_issue): such rows count in requests but not in bytes_sum, bytes_min
-- or bytes_max; bytes_logged counts the rows that have bytes, so averages
-- are over logged bytes (bytes_sum / bytes_logged), never over requests.
-- Hot and archive tiers (a row mid-move counts once, as in access_logs_all):
-- a rollup rebuilt in full after days were archived (a changed definition,
-- a lost table) must still count them, and a replayed historical log is
-- archived at once.
-- @key: day, status_class
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  status_class,
  count(*) AS requests,
  count(bytes) AS bytes_logged,
  sum(bytes) AS bytes_sum,
  min(bytes) AS bytes_min,
  max(bytes) AS bytes_max
FROM (
  SELECT event_ts, status_class, bytes
  FROM silver.access_logs
  WHERE NOT is_future
  UNION ALL
  SELECT a.event_ts, a.status_class, a.bytes
  FROM archive.access_logs a
  WHERE NOT a.is_future
    AND NOT EXISTS (SELECT 1 FROM silver.access_logs h WHERE h.source_topic = a.source_topic AND h.source_partition = a.source_partition AND h.source_offset = a.source_offset)
) tiers
GROUP BY 1, 2
