-- §5.10: application log lines of the whole history, hot and archive tiers.
SELECT 'hot' AS tier, event_ts, level, service, host, module, file, line, message, action_id
FROM silver.logs
WHERE NOT is_future
UNION ALL
SELECT 'archive', event_ts, level, service, host, module, file, line, message, action_id
FROM archive.logs
WHERE NOT is_future
