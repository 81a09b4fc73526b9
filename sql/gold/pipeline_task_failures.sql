-- Pipeline health: every failed try of a DAG task (scheduler store, read-only
-- "scheduler" catalog) with its run, exit code and error, and the task's state
-- now: failed for good, up for retry, or recovered (success) by a later try.
SELECT r.dag_id, r.run_id, r.run_type, tt.task_id, tt.try_number, ti.max_tries,
       tt.started_at, tt.ended_at,
       date_diff('millisecond', tt.started_at, tt.ended_at) / 1e3 AS duration_s,
       tt.exit_code, substr(tt.error, 1, 500) AS error, tt.owner AS scheduler_id,
       ti.state AS task_state
FROM scheduler.public.task_tries tt
JOIN scheduler.public.task_instances ti ON ti.run_pk = tt.run_pk AND ti.task_id = tt.task_id
JOIN scheduler.public.dag_runs r ON r.id = tt.run_pk
WHERE tt.state = 'failed'
