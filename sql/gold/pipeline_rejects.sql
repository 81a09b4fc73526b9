-- Pipeline health: records silver rejected, per hour of ingestion, topic,
-- error class and field (null: the reject names none), with one example
-- reason; from the rejects_hourly rollup.
SELECT hour, topic, error_class, nullif(field, '') AS field, records, example_reason
FROM gold.rejects_hourly
