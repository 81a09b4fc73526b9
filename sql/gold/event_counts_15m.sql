-- §5.3: app events per 15 minutes by service, type and status.
SELECT bucket, service, type, status, events, users
FROM gold.events_15m
