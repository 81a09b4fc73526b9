-- Web requests, bytes and error ratios per UTC day, for the web traffic dashboard.
SELECT
  day,
  sum(requests) AS requests,
  sum(bytes_sum) AS bytes, -- logged bytes only ("-" and cut bytes are null)
  CAST(sum(requests) FILTER (WHERE status_class = '4xx') AS double) / sum(requests) AS ratio_4xx,
  CAST(sum(requests) FILTER (WHERE status_class = '5xx') AS double) / sum(requests) AS ratio_5xx
FROM gold.access_daily
GROUP BY day
