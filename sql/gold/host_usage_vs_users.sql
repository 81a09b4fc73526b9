-- §5.8: CPU and memory per host and 15 minutes next to the number of active users.
SELECT m.bucket, m.host, m.service, m.cpu_pct_avg, m.cpu_pct_max, m.mem_bytes_avg, m.mem_bytes_max,
       m.requests, coalesce(u.active_users, 0) AS active_users
FROM gold.metrics_15m m
LEFT JOIN gold.active_users u ON u.grain = '15m' AND u.bucket = m.bucket
