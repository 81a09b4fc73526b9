-- §5.10: web access log lines of the whole history, hot and archive tiers.
SELECT 'hot' AS tier, event_ts, client_ip, method, path, endpoint, status, status_class, bytes, is_static_file
FROM silver.access_logs
WHERE NOT is_future
UNION ALL
SELECT 'archive', event_ts, client_ip, method, path, endpoint, status, status_class, bytes, is_static_file
FROM archive.access_logs
WHERE NOT is_future
