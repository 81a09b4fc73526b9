-- §5.8: CPU and memory per host and 15 minutes next to the number of active users.
SELECT h.bucket, h.host, h.service, h.cpu_pct_avg, h.cpu_pct_max, h.mem_bytes_avg, h.mem_bytes_max,
       h.requests, coalesce(u.active_users, 0) AS active_users
FROM gold.host_usage h
LEFT JOIN gold.active_users u ON u.grain = '15m' AND u.bucket = h.bucket
