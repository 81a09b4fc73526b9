-- Windows in which one user repeated one operation more often than the
-- UserRepeatingOperation alert rule allows, computed as the rule computes
-- them (its filter, group-by, sliding window and firing condition), under the
-- anomaly_operation_bursts view (DESIGN §5.9). Generated from rules/alerts.yaml
-- by jobs/gold (RuleRollupSQL): edit the rule, then
-- go test ./jobs/gold -run RuleRollups -update.
-- The rule's hysteresis (resolve) and keep_firing_for extend an alert past
-- these windows; its first firing window is always one of them.
-- @key: user_id, type, window_start
-- @partitioning: day(window_start)
-- @time: event_ts
-- @window: window_start, 1m0s
-- @slice: 15m
SELECT "user_id", "type", window_start, window_start + INTERVAL '60' SECOND AS window_end,
       count(DISTINCT "action_id") AS "repeats"
FROM (
  SELECT coalesce(CAST("user_id" AS varchar), '') AS "user_id",
         coalesce(CAST("type" AS varchar), '') AS "type",
         CAST("action_id" AS varchar) AS "action_id",
         from_unixtime((floor(to_unixtime(event_ts) / 10) - k) * 10) AS window_start
  FROM silver.events
  CROSS JOIN UNNEST(sequence(0, 5)) AS w (k)
  WHERE NOT is_future
    AND event_ts IS NOT NULL
    AND ("type" IS NULL OR CAST("type" AS varchar) <> 'page_view')
)
GROUP BY "user_id", "type", window_start
HAVING count(DISTINCT "action_id") > 10
