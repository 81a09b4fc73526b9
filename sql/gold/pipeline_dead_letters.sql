-- Pipeline health: records the stream job could not store, per day, topic and reason.
SELECT date_trunc('day', ingested_at) AS day, topic, reason, count(*) AS records
FROM bronze.dead_letters
GROUP BY 1, 2, 3
