-- Parsed web access log lines (hot tier, clock-skewed lines left out), for
-- interval queries and drill-down; the whole history is access_logs_all.
SELECT event_ts, client_ip, method, path, endpoint, protocol, status, status_class, bytes,
       referrer, user_agent, request_time_ms, cache_status, is_static_file, parse_issue
FROM silver.access_logs
WHERE NOT is_future
