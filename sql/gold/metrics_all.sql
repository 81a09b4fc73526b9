-- §5.10: host metrics of the whole history, hot and archive tiers.
SELECT 'hot' AS tier, event_ts, host, service, cpu_pct, mem_bytes, mem_pct, load1, requests
FROM silver.metrics
WHERE NOT is_future
UNION ALL
SELECT 'archive', a.event_ts, a.host, a.service, a.cpu_pct, a.mem_bytes, a.mem_pct, a.load1, a.requests
FROM archive.metrics a
WHERE NOT a.is_future
  AND NOT EXISTS (SELECT 1 FROM silver.metrics h WHERE h.event_ts < (SELECT with_timezone(CAST(max(p.partition.event_ts_day) + INTERVAL '1' DAY AS timestamp), 'UTC') FROM archive."metrics$partitions" p)
    AND h.source_topic = a.source_topic
    AND h.source_partition = a.source_partition
    AND h.source_offset = a.source_offset)
