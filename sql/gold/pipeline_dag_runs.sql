-- Pipeline health: one row per DAG run of the scheduler, read from its store
-- through Trino's read-only "scheduler" catalog: type, state, data interval,
-- time queued and running (up to now while it runs), its tasks by outcome,
-- and whether it is the DAG's latest run (the one created last).
SELECT r.dag_id, r.run_id, r.run_type, r.state, r.logical_date, r.interval_start, r.interval_end,
       r.created_at, r.started_at, r.ended_at,
       date_diff('millisecond', r.created_at, coalesce(r.started_at, current_timestamp)) / 1e3 AS queued_s,
       date_diff('millisecond', r.started_at, coalesce(r.ended_at, current_timestamp)) / 1e3 AS duration_s,
       coalesce(t.tasks, 0) AS tasks,
       coalesce(t.tasks_succeeded, 0) AS tasks_succeeded,
       coalesce(t.tasks_failed, 0) AS tasks_failed,
       coalesce(t.tasks_skipped, 0) AS tasks_skipped,
       coalesce(t.tries, 0) AS tries,
       row_number() OVER (PARTITION BY r.dag_id ORDER BY r.created_at DESC, r.id DESC) = 1 AS latest
FROM scheduler.public.dag_runs r
LEFT JOIN (
  SELECT run_pk, count(*) AS tasks,
         count_if(state = 'success') AS tasks_succeeded,
         count_if(state IN ('failed', 'upstream_failed')) AS tasks_failed,
         count_if(state = 'skipped') AS tasks_skipped,
         sum(try_number) AS tries
  FROM scheduler.public.task_instances
  GROUP BY run_pk
) t ON t.run_pk = r.id
