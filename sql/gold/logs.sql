-- Application log lines (hot tier, clock-skewed lines left out), for
-- interval queries by level and service (§5.3).
SELECT event_ts, level, service, host, node, module, file, line, message, action_id
FROM silver.logs
WHERE NOT is_future
