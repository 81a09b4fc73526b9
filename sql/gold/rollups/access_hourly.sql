-- Web requests per hour and status class, for the panels that draw
-- requests over time (access_daily has a row per day). Hot and archive
-- tiers (a row mid-move counts once, as in access_logs_all), as
-- access_daily.
-- @key: hour, status_class
-- @partitioning: day(hour)
-- @time: event_ts
-- @slice: 1h
SELECT date_trunc('hour', event_ts) AS hour, status_class, count(*) AS requests
FROM (
  SELECT event_ts, status_class
  FROM silver.access_logs
  WHERE NOT is_future
  UNION ALL
  SELECT a.event_ts, a.status_class
  FROM archive.access_logs a
  WHERE NOT a.is_future
    AND NOT EXISTS (SELECT 1 FROM silver.access_logs h WHERE h.source_topic = a.source_topic AND h.source_partition = a.source_partition AND h.source_offset = a.source_offset)
) tiers
GROUP BY 1, 2
