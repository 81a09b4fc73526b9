-- Pipeline health: the last commit of every bronze and silver table and of
-- the gold rollups, and how long ago it was (snapshot metadata only).
SELECT layer, table_name, last_commit_at, date_diff('second', last_commit_at, current_timestamp) AS age_seconds
FROM (
  SELECT 'bronze' AS layer, 'web_access' AS table_name, max(committed_at) AS last_commit_at FROM bronze."web_access$snapshots"
  UNION ALL SELECT 'bronze', 'app_events', max(committed_at) FROM bronze."app_events$snapshots"
  UNION ALL SELECT 'bronze', 'app_logs', max(committed_at) FROM bronze."app_logs$snapshots"
  UNION ALL SELECT 'bronze', 'infra_metrics', max(committed_at) FROM bronze."infra_metrics$snapshots"
  UNION ALL SELECT 'silver', 'access_logs', max(committed_at) FROM silver."access_logs$snapshots"
  UNION ALL SELECT 'silver', 'events', max(committed_at) FROM silver."events$snapshots"
  UNION ALL SELECT 'silver', 'logs', max(committed_at) FROM silver."logs$snapshots"
  UNION ALL SELECT 'silver', 'metrics', max(committed_at) FROM silver."metrics$snapshots"
  UNION ALL SELECT 'gold', rollup_name, max(refreshed_at) FROM gold.rollup_state GROUP BY rollup_name
)
