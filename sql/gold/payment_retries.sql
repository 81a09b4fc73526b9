-- §5.6: every payment (action) with its attempts and eventual outcome:
-- success after N attempts, or final failure; retried = more than one attempt.
SELECT
  action_id,
  arbitrary(user_id) AS user_id,
  min(event_ts) AS first_attempt_at,
  max(event_ts) AS last_attempt_at,
  count(*) AS attempts,
  count(*) > 1 AS retried,
  array_join(array_agg(provider ORDER BY attempt), ',') AS providers,
  count_if(status = 'failed') AS failed_attempts,
  CASE WHEN count_if(status = 'ok') > 0 THEN 'success' ELSE 'failed' END AS outcome,
  min(attempt) FILTER (WHERE status = 'ok') AS succeeded_at_attempt
FROM silver.events
WHERE type = 'payment_attempt' AND NOT is_future
GROUP BY action_id
