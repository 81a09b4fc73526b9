-- §5.2: every event and log line of each action_id, from the hot and the
-- archive tier (tier says which); query it with
-- WHERE action_id = '...' ORDER BY event_ts, source, service, detail
-- (the step order). The view has no window function, so a filter on
-- event_ts (a dashboard's time range) reaches the tables' partitions; the
-- trace dashboard numbers the steps itself, with
-- row_number() OVER (ORDER BY event_ts, source, service, detail).
SELECT action_id, event_ts, source, service, host, kind, status, duration_ms, detail, tier
FROM (
  SELECT action_id, event_ts, 'event' AS source, service, host, type AS kind, status, duration_ms,
         concat_ws(' ', 'user=' || user_id, 'page=' || page, 'item=' || item, 'provider=' || provider,
                   'attempt=' || CAST(attempt AS varchar), 'amount=' || CAST(amount AS varchar)) AS detail,
         tier
  FROM gold.events_all
  UNION ALL
  SELECT action_id, event_ts, 'log', service, host, level, NULL, NULL,
         concat_ws(' ', message, '(' || file || ':' || CAST(line AS varchar) || ')', 'module=' || module, 'node=' || node),
         tier
  FROM gold.logs_all
  WHERE action_id IS NOT NULL
)
