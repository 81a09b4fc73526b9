-- §5.10: web access log lines of the whole history, hot and archive tiers.
SELECT 'hot' AS tier, event_ts, client_ip, method, path, endpoint, status, status_class, bytes, is_static_file
FROM silver.access_logs
WHERE NOT is_future
UNION ALL
SELECT 'archive', a.event_ts, a.client_ip, a.method, a.path, a.endpoint, a.status, a.status_class, a.bytes, a.is_static_file
FROM archive.access_logs a
WHERE NOT a.is_future
  AND NOT EXISTS (SELECT 1 FROM silver.access_logs h WHERE h.event_ts < (SELECT with_timezone(CAST(max(p.partition.event_ts_day) + INTERVAL '1' DAY AS timestamp), 'UTC') FROM archive."access_logs$partitions" p)
    AND h.source_topic = a.source_topic
    AND h.source_partition = a.source_partition
    AND h.source_offset = a.source_offset)
