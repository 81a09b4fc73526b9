-- §5.3: log lines per 15 minutes by service and level.
SELECT bucket, service, level, lines
FROM gold.logs_15m
