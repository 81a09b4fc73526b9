-- Payment attempts per 15 minutes and payment (action_id, '' for none):
-- how many, how many succeeded and the first and last, which add up
-- across quarters; the payment_outcomes view sums them per payment, so
-- the business dashboard's payments panel reads this instead of every
-- payment attempt in silver (DESIGN §5.6).
-- @key: bucket, action_id
-- @partitioning: day(bucket)
-- @time: event_ts
-- @slice: 15m
SELECT
  date_trunc('hour', event_ts) + (minute(event_ts) / 15) * INTERVAL '15' MINUTE AS bucket,
  coalesce(action_id, '') AS action_id,
  count(*) AS attempts,
  count_if(status = 'ok') AS ok_attempts,
  min(event_ts) AS first_attempt_at,
  max(event_ts) AS last_attempt_at
FROM silver.events
WHERE type = 'payment_attempt' AND NOT is_future
GROUP BY 1, 2
