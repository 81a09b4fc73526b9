-- §5.10: how much history each tier holds, per table: rows and first/last
-- event time (partition metadata only, no data scan).
SELECT t.tier, t.table_name, sum(p.record_count) AS rows, count(*) AS partitions,
       min(p.first_day) AS first_day, max(p.last_day) AS last_day
FROM (
  SELECT 'hot' AS tier, 'access_logs' AS table_name, record_count, data.event_ts.min AS first_day, data.event_ts.max AS last_day FROM silver."access_logs$partitions"
  UNION ALL SELECT 'archive', 'access_logs', record_count, data.event_ts.min, data.event_ts.max FROM archive."access_logs$partitions"
  UNION ALL SELECT 'hot', 'events', record_count, data.event_ts.min, data.event_ts.max FROM silver."events$partitions"
  UNION ALL SELECT 'archive', 'events', record_count, data.event_ts.min, data.event_ts.max FROM archive."events$partitions"
  UNION ALL SELECT 'hot', 'logs', record_count, data.event_ts.min, data.event_ts.max FROM silver."logs$partitions"
  UNION ALL SELECT 'archive', 'logs', record_count, data.event_ts.min, data.event_ts.max FROM archive."logs$partitions"
  UNION ALL SELECT 'hot', 'metrics', record_count, data.event_ts.min, data.event_ts.max FROM silver."metrics$partitions"
  UNION ALL SELECT 'archive', 'metrics', record_count, data.event_ts.min, data.event_ts.max FROM archive."metrics$partitions"
) p
RIGHT JOIN (VALUES ('hot', 'access_logs'), ('archive', 'access_logs'), ('hot', 'events'), ('archive', 'events'),
                   ('hot', 'logs'), ('archive', 'logs'), ('hot', 'metrics'), ('archive', 'metrics')) AS t (tier, table_name)
  ON p.tier = t.tier AND p.table_name = t.table_name
GROUP BY t.tier, t.table_name
