-- Pipeline health: DAG runs per hour of creation, DAG and state, with their
-- average and longest run time.
SELECT date_trunc('hour', created_at) AS hour, dag_id, state, count(*) AS runs,
       avg(duration_s) AS duration_avg_s, max(duration_s) AS duration_max_s
FROM gold.pipeline_dag_runs
GROUP BY 1, 2, 3
