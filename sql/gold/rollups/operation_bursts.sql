-- Minutes in which one user repeated one operation more than 20 times (the
-- threshold of the UserRepeatingOperation alert rule); under the
-- anomaly_operation_bursts view (DESIGN §5.9). Counts only grow as late
-- events arrive, so a minute, once a burst, stays one.
-- @key: user_id, operation, minute
-- @partitioning: day(minute)
-- @time: event_ts
SELECT user_id, type AS operation, date_trunc('minute', event_ts) AS minute,
       count(*) AS operations, count(DISTINCT item) AS items
FROM silver.events
WHERE NOT is_future AND user_id IS NOT NULL
GROUP BY user_id, type, date_trunc('minute', event_ts)
HAVING count(*) > 20
