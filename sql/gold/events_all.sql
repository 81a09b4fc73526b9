-- §5.10: app events of the whole history: the hot tier (last 30 days) and
-- the archive tier; tier tells them apart. The archive job moves rows in one
-- step, so no row is in both.
SELECT 'hot' AS tier, event_ts, event_id, action_id, service, host, user_id, session_id, type, status,
       page, item, item_category, provider, amount, currency, attempt, duration_ms
FROM silver.events
WHERE NOT is_future
UNION ALL
SELECT 'archive', event_ts, event_id, action_id, service, host, user_id, session_id, type, status,
       page, item, item_category, provider, amount, currency, attempt, duration_ms
FROM archive.events
WHERE NOT is_future
