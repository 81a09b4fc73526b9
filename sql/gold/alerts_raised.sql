-- §5.10: one row per alert raised (alert job, fingerprint and start), with its
-- latest status.
SELECT job, fingerprint, rule, severity, starts_at,
       max_by(status, emitted_at) AS status,
       max_by(ends_at, emitted_at) AS ends_at,
       max_by(labels, emitted_at) AS labels,
       max_by(annotations, emitted_at) AS annotations,
       count(*) AS notifications
FROM silver.alerts
GROUP BY job, fingerprint, rule, severity, starts_at
