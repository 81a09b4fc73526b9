-- Pipeline health: the newest record of every bronze and silver table by its
-- own clock (Kafka's timestamp in bronze, event time in silver) and how far
-- it is behind now. Both layers are answered from Iceberg metadata: the
-- upper bound of that column over the data files of the last three days'
-- partitions (UTC; ingestion day in bronze, event day in silver) in
-- $partitions, so no data is read, however fast the tables grow. Silver
-- sends a record dated further ahead of its ingestion than its MaxFuture to
-- rejects, so a silver bound is at most that far ahead (a negative
-- behind_seconds). A null newest_event means nothing newer.
SELECT layer, table_name, newest_event, date_diff('second', newest_event, current_timestamp) AS behind_seconds
FROM (
  SELECT 'bronze' AS layer, 'web_access' AS table_name, max(data.kafka_ts.max) AS newest_event
  FROM bronze."web_access$partitions" WHERE partition.ingested_at_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'bronze', 'app_events', max(data.kafka_ts.max) FROM bronze."app_events$partitions"
    WHERE partition.ingested_at_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'bronze', 'app_logs', max(data.kafka_ts.max) FROM bronze."app_logs$partitions"
    WHERE partition.ingested_at_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'bronze', 'infra_metrics', max(data.kafka_ts.max) FROM bronze."infra_metrics$partitions"
    WHERE partition.ingested_at_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'silver', 'access_logs', max(data.event_ts.max) FROM silver."access_logs$partitions"
    WHERE partition.event_ts_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'silver', 'events', max(data.event_ts.max) FROM silver."events$partitions"
    WHERE partition.event_ts_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'silver', 'logs', max(data.event_ts.max) FROM silver."logs$partitions"
    WHERE partition.event_ts_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
  UNION ALL SELECT 'silver', 'metrics', max(data.event_ts.max) FROM silver."metrics$partitions"
    WHERE partition.event_ts_day >= date(current_timestamp AT TIME ZONE 'UTC') - INTERVAL '2' DAY
)
