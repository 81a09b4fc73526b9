-- Pipeline health: the newest record of every bronze and silver table by its
-- own clock (Kafka's timestamp in bronze, event time in silver) and how far
-- it is behind now. Bronze is answered from Iceberg metadata (the kafka_ts
-- upper bound of the data files of the last three ingestion days, UTC, in
-- $partitions): no data is read, however fast bronze grows. Silver reads its
-- last two days of event time (partition pruning on event_ts), excluding
-- future-dated rows. A null newest_event means nothing newer.
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
  UNION ALL SELECT 'silver', 'access_logs', max(event_ts) FROM silver.access_logs WHERE event_ts > current_timestamp - INTERVAL '2' DAY AND NOT is_future
  UNION ALL SELECT 'silver', 'events', max(event_ts) FROM silver.events WHERE event_ts > current_timestamp - INTERVAL '2' DAY AND NOT is_future
  UNION ALL SELECT 'silver', 'logs', max(event_ts) FROM silver.logs WHERE event_ts > current_timestamp - INTERVAL '2' DAY AND NOT is_future
  UNION ALL SELECT 'silver', 'metrics', max(event_ts) FROM silver.metrics WHERE event_ts > current_timestamp - INTERVAL '2' DAY
)
