-- Pipeline health: records silver rejected per hour of ingestion, topic,
-- error class and field ('' where the reject names no field: keys are
-- never null), with one example reason; under pipeline_rejects.
-- @key: hour, topic, error_class, field
-- @partitioning: day(hour)
-- @time: ingested_at
-- @slice: 1h
SELECT date_trunc('hour', ingested_at) AS hour, source_topic AS topic, error_class,
       coalesce(field, '') AS field, count(*) AS records, arbitrary(reason) AS example_reason
FROM silver.rejects
GROUP BY 1, 2, 3, 4
