-- §5.10: app events of the whole history: the hot tier (last 30 days) and
-- the archive tier; tier tells them apart. An archive row whose key is still
-- hot (a move in progress) is shown once, from hot, as in the archive job's
-- union views.
SELECT 'hot' AS tier, event_ts, event_id, action_id, service, host, user_id, session_id, type, status, page, item, item_category, provider, amount, currency, attempt, duration_ms
FROM silver.events
WHERE NOT is_future
UNION ALL
SELECT 'archive', a.event_ts, a.event_id, a.action_id, a.service, a.host, a.user_id, a.session_id, a.type, a.status, a.page, a.item, a.item_category, a.provider, a.amount, a.currency, a.attempt, a.duration_ms
FROM archive.events a
WHERE NOT a.is_future
  AND NOT EXISTS (SELECT 1 FROM silver.events h WHERE h.event_ts < (SELECT with_timezone(CAST(max(p.partition.event_ts_day) + INTERVAL '1' DAY AS timestamp), 'UTC') FROM archive."events$partitions" p)
    AND h.event_id = a.event_id)
