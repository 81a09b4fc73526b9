-- §5.1: response bytes total, max, min and average per status class.
SELECT
  status_class,
  sum(requests) AS requests,
  sum(bytes_sum) AS bytes_total,
  max(bytes_max) AS bytes_max,
  min(bytes_min) AS bytes_min,
  CAST(sum(bytes_sum) AS double) / sum(requests) AS bytes_avg
FROM gold.access_daily
GROUP BY status_class
