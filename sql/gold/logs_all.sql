-- §5.10: application log lines of the whole history, hot and archive tiers.
SELECT 'hot' AS tier, event_ts, level, service, host, node, module, file, line, message, action_id
FROM silver.logs
WHERE NOT is_future
UNION ALL
SELECT 'archive', a.event_ts, a.level, a.service, a.host, a.node, a.module, a.file, a.line, a.message, a.action_id
FROM archive.logs a
WHERE NOT a.is_future
  AND NOT EXISTS (SELECT 1 FROM silver.logs h WHERE h.event_ts < (SELECT with_timezone(CAST(max(p.partition.event_ts_day) + INTERVAL '1' DAY AS timestamp), 'UTC') FROM archive."logs$partitions" p)
    AND h.source_topic = a.source_topic
    AND h.source_partition = a.source_partition
    AND h.source_offset = a.source_offset)
