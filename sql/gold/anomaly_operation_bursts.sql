-- §5.9: bursts: one user repeating one operation (distinct action ids, page
-- views aside) more often than the UserRepeatingOperation alert rule allows
-- in one of its sliding windows, from the operation_bursts rollup, which is
-- generated from that rule (rules/alerts.yaml): every window that fired the
-- alert is a row here.
SELECT user_id, type AS operation, window_start, window_end, repeats AS operations
FROM gold.operation_bursts
