-- Application log lines per hour and message pattern: the message with
-- every number and every hex word holding a digit (ids, UUIDs, durations)
-- masked as '#', so "in 12.5ms" and "in 3.1ms" count as one pattern. Hot
-- and archive tiers (a row mid-move counts once, as in logs_all). Keys are
-- never null: a missing node, module or file is '', a missing line 0
-- (null again in log_patterns). One example message per row.
-- @key: hour, level, service, node, module, file, line, pattern
-- @partitioning: day(hour)
-- @time: event_ts
-- @slice: 1h
SELECT date_trunc('hour', event_ts) AS hour, level, service, coalesce(node, '') AS node,
       coalesce(module, '') AS module, coalesce(file, '') AS file, coalesce(line, 0) AS line,
       regexp_replace(regexp_replace(message, '\b[0-9a-fA-F]*[0-9][0-9a-fA-F]*\b', '#'), '[0-9]+', '#') AS pattern,
       count(*) AS lines, max(event_ts) AS last_seen, max(message) AS example
FROM (
  SELECT event_ts, level, service, node, module, file, line, message
  FROM silver.logs
  WHERE NOT is_future
  UNION ALL
  SELECT a.event_ts, a.level, a.service, a.node, a.module, a.file, a.line, a.message
  FROM archive.logs a
  WHERE NOT a.is_future
    AND NOT EXISTS (SELECT 1 FROM silver.logs h WHERE h.source_topic = a.source_topic AND h.source_partition = a.source_partition AND h.source_offset = a.source_offset)
) tiers
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
