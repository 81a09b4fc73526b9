-- silver.events as a scheduled Trino query would build it, beside weir
-- batch silver (make bench: silver-trino.json). {{bronze}} is the bronze
-- table, {{target}} the table this creates. Deduplicated on event_id
-- (the first by ingestion, partition, offset). Deliberate differences from
-- weir (counted by the checksum query): weir validates types and values
-- (a non-numeric amount, an unknown status, a missing required field are
-- rejects there, nulls here) and rejects non-UTF-8 payloads.
CREATE TABLE {{target}} AS
WITH j AS (
  SELECT "partition" AS source_partition, "offset" AS source_offset, ingested_at,
         TRY(json_parse(from_utf8(value))) AS doc
  FROM {{bronze}}
  WHERE value IS NOT NULL
), typed AS (
  SELECT source_partition, source_offset, ingested_at,
    json_extract_scalar(doc, '$.event_id') AS event_id,
    json_extract_scalar(doc, '$.action_id') AS action_id,
    TRY(from_iso8601_timestamp(json_extract_scalar(doc, '$.ts'))) AS event_ts,
    json_extract_scalar(doc, '$.service') AS service,
    json_extract_scalar(doc, '$.host') AS host,
    json_extract_scalar(doc, '$.user_id') AS user_id,
    json_extract_scalar(doc, '$.session_id') AS session_id,
    json_extract_scalar(doc, '$.type') AS type,
    json_extract_scalar(doc, '$.page') AS page,
    json_extract_scalar(doc, '$.item') AS item,
    json_extract_scalar(doc, '$.provider') AS provider,
    nullif(TRY_CAST(json_extract_scalar(doc, '$.amount') AS double), 0) AS amount,
    json_extract_scalar(doc, '$.currency') AS currency,
    json_extract_scalar(doc, '$.status') AS status,
    nullif(TRY_CAST(json_extract_scalar(doc, '$.attempt') AS integer), 0) AS attempt,
    TRY_CAST(json_extract_scalar(doc, '$.duration_ms') AS double) AS duration_ms,
    json_extract_scalar(doc, '$.order_id') AS order_id
  FROM j
  WHERE doc IS NOT NULL
)
SELECT event_id, action_id, event_ts, service, host, user_id, session_id, type, page, item,
  provider, amount, currency, status, attempt, duration_ms, order_id,
  source_partition, source_offset, ingested_at
FROM (
  SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY ingested_at, source_partition, source_offset) AS n
  FROM typed
  WHERE event_id IS NOT NULL AND action_id IS NOT NULL AND event_ts IS NOT NULL AND service IS NOT NULL
    AND type IS NOT NULL AND status IS NOT NULL AND duration_ms IS NOT NULL
    AND event_ts <= ingested_at + INTERVAL '5' MINUTE
)
WHERE n = 1
