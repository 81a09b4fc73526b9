-- §5.10: every alert state change the alert job recorded (firing, resolved).
SELECT job, emitted_at, starts_at, ends_at, rule, status, severity, id, fingerprint, labels, annotations,
       "values", window_start, window_end
FROM silver.alerts
