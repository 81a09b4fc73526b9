-- §5.9: bursts: one user repeating the same operation more than 20 times in
-- one minute (the threshold of the UserRepeatingOperation alert rule).
SELECT user_id, type AS operation, date_trunc('minute', event_ts) AS minute,
       count(*) AS operations, count(DISTINCT item) AS items
FROM silver.events
WHERE NOT is_future AND user_id IS NOT NULL
GROUP BY user_id, type, date_trunc('minute', event_ts)
HAVING count(*) > 20
