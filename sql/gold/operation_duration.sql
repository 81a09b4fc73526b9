-- §5.7: operation duration min/max/avg/p50/p95/p99 (ms) per service and
-- operation over the whole hot history; percentiles are t-digest estimates.
SELECT
  service,
  operation,
  sum(operations) AS operations,
  min(duration_ms_min) AS min_ms,
  max(duration_ms_max) AS max_ms,
  sum(duration_ms_sum) / sum(operations) AS avg_ms,
  value_at_quantile(merge(CAST(digest AS tdigest)), 0.5) AS p50_ms,
  value_at_quantile(merge(CAST(digest AS tdigest)), 0.95) AS p95_ms,
  value_at_quantile(merge(CAST(digest AS tdigest)), 0.99) AS p99_ms
FROM gold.duration_hourly
GROUP BY service, operation
