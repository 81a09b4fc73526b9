-- §5.1: response bytes total, max, min and average per status class.
-- Requests that logged no bytes ("-", or a line cut before them) are in
-- requests but not in bytes_logged, so not in the total, max, min or
-- average: bytes_avg is over bytes_logged (null when none logged bytes).
SELECT
  status_class,
  sum(requests) AS requests,
  sum(bytes_logged) AS bytes_logged,
  sum(bytes_sum) AS bytes_total,
  max(bytes_max) AS bytes_max,
  min(bytes_min) AS bytes_min,
  CAST(sum(bytes_sum) AS double) / nullif(sum(bytes_logged), 0) AS bytes_avg
FROM gold.access_daily
GROUP BY status_class
