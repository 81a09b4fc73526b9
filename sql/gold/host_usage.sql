-- §5.8: CPU and memory per host and 15 minutes, for the panels that do not
-- need host_usage_vs_users' active users (and its join).
SELECT bucket, host, service, cpu_pct_avg, cpu_pct_max, mem_bytes_avg, mem_bytes_max, requests
FROM gold.metrics_15m
