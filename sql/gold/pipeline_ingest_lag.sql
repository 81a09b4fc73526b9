-- Pipeline health: per topic and minute of ingestion, records landed in
-- bronze and the delay from Kafka to the bronze commit (ingested_at -
-- kafka_ts), from the ingest_minute rollup.
SELECT minute, topic, records,
       lag_sum_ms / 1e3 / nullif(lag_count, 0) AS lag_avg_s,
       lag_max_ms / 1e3 AS lag_max_s
FROM gold.ingest_minute
