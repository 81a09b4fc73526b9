-- Web requests per UTC day and status class with response-byte figures;
-- under the web_* views (DESIGN §5.1). Records stamped in the future are in
-- silver.rejects (class future), not here: is_future is always false.
-- bytes is null where the line logged "-" or was cut before its bytes
-- (parse_issue): such rows count in requests but not in bytes_sum, bytes_min
-- or bytes_max; bytes_logged counts the rows that have bytes, so averages
-- are over logged bytes (bytes_sum / bytes_logged), never over requests.
-- @key: day, status_class
-- @time: event_ts
SELECT
  CAST(event_ts AT TIME ZONE 'UTC' AS date) AS day,
  status_class,
  count(*) AS requests,
  count(bytes) AS bytes_logged,
  sum(bytes) AS bytes_sum,
  min(bytes) AS bytes_min,
  max(bytes) AS bytes_max
FROM silver.access_logs
WHERE NOT is_future
GROUP BY 1, 2
