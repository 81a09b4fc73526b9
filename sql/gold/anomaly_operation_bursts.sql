-- §5.9: bursts: one user repeating the same operation more than 20 times in
-- one minute (the threshold of the UserRepeatingOperation alert rule), from
-- the operation_bursts rollup.
SELECT user_id, operation, minute, operations, items
FROM gold.operation_bursts
