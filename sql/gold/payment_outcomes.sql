-- §5.6: every payment (action) with its number of attempts and eventual
-- outcome, as payment_retries has them, from the payment_attempts_15m
-- rollup: what the payments panel and retry_outcomes read.
SELECT
  nullif(action_id, '') AS action_id,
  min(first_attempt_at) AS first_attempt_at,
  max(last_attempt_at) AS last_attempt_at,
  sum(attempts) AS attempts,
  CASE WHEN sum(ok_attempts) > 0 THEN 'success' ELSE 'failed' END AS outcome
FROM gold.payment_attempts_15m
GROUP BY action_id
