-- silver.access_logs as a scheduled Trino query would build it: the
-- alternative to weir batch silver's Go parser (make bench: silver-trino.json).
-- {{bronze}} is the bronze table, {{target}} the table this creates.
-- Deliberate differences from weir (counted by the benchmark's checksum
-- query): a line cut after its status, an escaped quote inside a quoted
-- field, a percent-encoded or full-URL request target, and a non-UTF-8 line
-- (from_utf8 replaces the bytes; weir rejects it) are handled by weir only.
CREATE TABLE {{target}} AS
WITH lines AS (
  SELECT "partition" AS source_partition, "offset" AS source_offset, ingested_at,
         from_utf8(value) AS line
  FROM {{bronze}}
  WHERE value IS NOT NULL
), parsed AS (
  SELECT source_partition, source_offset, ingested_at,
    regexp_extract(line, '^(\S+) ', 1) AS client_ip,
    nullif(regexp_extract(line, '^\S+ (\S+) ', 1), '-') AS ident,
    nullif(regexp_extract(line, '^\S+ \S+ (\S+) ', 1), '-') AS "user",
    TRY(parse_datetime(regexp_extract(line, '\[([^\]]+)\]', 1), 'dd/MMM/yyyy:HH:mm:ss Z')) AS event_ts,
    regexp_extract(line, '\] "(\S+) (\S+) (\S+)"', 1) AS method,
    regexp_extract(line, '\] "(\S+) (\S+) (\S+)"', 2) AS path,
    regexp_extract(line, '\] "(\S+) (\S+) (\S+)"', 3) AS protocol,
    CAST(regexp_extract(line, '" (\d{3}) ', 1) AS integer) AS status,
    TRY_CAST(regexp_extract(line, '" \d{3} (\d+|-) ', 1) AS bigint) AS bytes,
    nullif(regexp_extract(line, '" \d{3} \S+ "([^"]*)"', 1), '-') AS referrer,
    nullif(regexp_extract(line, '" \d{3} \S+ "[^"]*" "([^"]*)"', 1), '-') AS user_agent,
    TRY_CAST(nullif(regexp_extract(line, '" \d{3} \S+ "[^"]*" "[^"]*" (\S+)', 1), '-') AS double) * 1000 AS request_time_ms,
    nullif(regexp_extract(line, '" \d{3} \S+ "[^"]*" "[^"]*" \S+ (\S+)$', 1), '-') AS cache_status
  FROM lines
  -- a whole line only
  WHERE regexp_like(line, '^\S+ \S+ \S+ \[[^\]]+\] "\S+ \S+ \S+" \d{3} (\d+|-) "[^"]*" "[^"]*"( \S+)?( \S+)?$')
)
SELECT event_ts, client_ip, ident, "user", method, path, protocol, status,
  CASE WHEN status BETWEEN 100 AND 599 THEN substr(CAST(status AS varchar), 1, 1) || 'xx' ELSE '' END AS status_class,
  bytes, referrer, user_agent, request_time_ms, cache_status,
  -- the last path segment, without query, fragment and ;params, has a dot
  -- that is not its last character
  regexp_like(regexp_extract(regexp_extract(regexp_extract(path, '^[^?#]*'), '[^/]*$'), '^[^;]*'), '\.[^.]+$') AS is_static_file,
  source_partition, source_offset, ingested_at
FROM parsed
-- weir rejects a record stamped more than 5 min after its ingestion (class future)
WHERE event_ts <= ingested_at + INTERVAL '5' MINUTE
