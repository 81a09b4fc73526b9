-- §5.10: host metrics of the whole history, hot and archive tiers.
SELECT 'hot' AS tier, event_ts, host, service, cpu_pct, mem_bytes, mem_pct, load1, requests
FROM silver.metrics
WHERE NOT is_future
UNION ALL
SELECT 'archive', event_ts, host, service, cpu_pct, mem_bytes, mem_pct, load1, requests
FROM archive.metrics
WHERE NOT is_future
