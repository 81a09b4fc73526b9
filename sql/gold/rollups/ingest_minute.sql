-- Pipeline health: records landed per minute of ingestion and topic, with
-- the delay from Kafka to the bronze commit (ingested_at - kafka_ts, in ms:
-- its sum and count for the average, and its maximum); under
-- pipeline_ingest_lag, so its panels read a row per minute, not bronze.
-- A record without a Kafka timestamp counts in records, not in the delay.
-- @key: minute, topic
-- @partitioning: day(minute)
-- @time: ingested_at
-- @slice: 15m
SELECT date_trunc('minute', ingested_at) AS minute, topic, count(*) AS records,
       sum(date_diff('millisecond', kafka_ts, ingested_at)) AS lag_sum_ms,
       count(kafka_ts) AS lag_count,
       max(date_diff('millisecond', kafka_ts, ingested_at)) AS lag_max_ms
FROM (
  SELECT ingested_at, kafka_ts, topic FROM bronze.web_access
  UNION ALL SELECT ingested_at, kafka_ts, topic FROM bronze.app_events
  UNION ALL SELECT ingested_at, kafka_ts, topic FROM bronze.app_logs
  UNION ALL SELECT ingested_at, kafka_ts, topic FROM bronze.infra_metrics
)
GROUP BY 1, 2
