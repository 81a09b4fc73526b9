-- App events with their enrichment (hot tier, clock-skewed events left out),
-- for interval queries by type, service and status (§5.3).
SELECT event_ts, event_id, action_id, service, host, user_id, session_id, type, status, page,
       item, item_name, item_category, provider, provider_name, provider_kind, amount, currency,
       attempt, duration_ms
FROM silver.events
WHERE NOT is_future
