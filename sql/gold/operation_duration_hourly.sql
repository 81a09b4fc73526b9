-- §5.7 per hour: duration figures per service and operation, for latency
-- panels over an interval (merge digests to combine hours).
SELECT
  bucket, service, operation, operations,
  duration_ms_min AS min_ms, duration_ms_max AS max_ms,
  duration_ms_sum / operations AS avg_ms,
  value_at_quantile(CAST(digest AS tdigest), 0.5) AS p50_ms,
  value_at_quantile(CAST(digest AS tdigest), 0.95) AS p95_ms,
  value_at_quantile(CAST(digest AS tdigest), 0.99) AS p99_ms,
  digest
FROM gold.duration_hourly
