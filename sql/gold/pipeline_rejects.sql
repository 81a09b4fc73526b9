-- Pipeline health: records silver rejected, per hour of ingestion, topic,
-- error class and field, with one example reason.
SELECT date_trunc('hour', ingested_at) AS hour, source_topic AS topic, error_class, field,
       count(*) AS records, arbitrary(reason) AS example_reason
FROM silver.rejects
GROUP BY 1, 2, 3, 4
