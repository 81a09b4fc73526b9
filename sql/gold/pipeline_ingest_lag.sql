-- Pipeline health: per bronze table and minute of ingestion, records landed
-- and the delay from Kafka to the bronze commit (ingested_at - kafka_ts).
SELECT date_trunc('minute', ingested_at) AS minute, topic, count(*) AS records,
       avg(date_diff('millisecond', kafka_ts, ingested_at)) / 1e3 AS lag_avg_s,
       max(date_diff('millisecond', kafka_ts, ingested_at)) / 1e3 AS lag_max_s
FROM (
  SELECT ingested_at, kafka_ts, topic FROM bronze.web_access
  UNION ALL SELECT ingested_at, kafka_ts, topic FROM bronze.app_events
  UNION ALL SELECT ingested_at, kafka_ts, topic FROM bronze.app_logs
  UNION ALL SELECT ingested_at, kafka_ts, topic FROM bronze.infra_metrics
)
GROUP BY 1, 2
