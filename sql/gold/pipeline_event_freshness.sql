-- Pipeline health: the newest record of every bronze and silver table by its
-- own clock (Kafka's timestamp in bronze, event time in silver) and how far
-- it is behind now. Only the last two days are read (partition pruning on
-- ingested_at and event_ts): a null newest_event means nothing newer.
SELECT layer, table_name, newest_event, date_diff('second', newest_event, current_timestamp) AS behind_seconds
FROM (
  SELECT 'bronze' AS layer, 'web_access' AS table_name, max(kafka_ts) AS newest_event
  FROM bronze.web_access WHERE ingested_at > current_timestamp - INTERVAL '2' DAY
  UNION ALL SELECT 'bronze', 'app_events', max(kafka_ts) FROM bronze.app_events WHERE ingested_at > current_timestamp - INTERVAL '2' DAY
  UNION ALL SELECT 'bronze', 'app_logs', max(kafka_ts) FROM bronze.app_logs WHERE ingested_at > current_timestamp - INTERVAL '2' DAY
  UNION ALL SELECT 'bronze', 'infra_metrics', max(kafka_ts) FROM bronze.infra_metrics WHERE ingested_at > current_timestamp - INTERVAL '2' DAY
  UNION ALL SELECT 'silver', 'access_logs', max(event_ts) FROM silver.access_logs WHERE event_ts > current_timestamp - INTERVAL '2' DAY AND NOT is_future
  UNION ALL SELECT 'silver', 'events', max(event_ts) FROM silver.events WHERE event_ts > current_timestamp - INTERVAL '2' DAY AND NOT is_future
  UNION ALL SELECT 'silver', 'logs', max(event_ts) FROM silver.logs WHERE event_ts > current_timestamp - INTERVAL '2' DAY AND NOT is_future
  UNION ALL SELECT 'silver', 'metrics', max(event_ts) FROM silver.metrics WHERE event_ts > current_timestamp - INTERVAL '2' DAY
)
