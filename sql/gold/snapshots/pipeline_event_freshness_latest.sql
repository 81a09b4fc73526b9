-- pipeline_event_freshness (the newest record of every bronze and silver
-- table by its own clock) as of taken_at, at most 10 seconds older than
-- the last gold refresh where it runs in a loop (weir-follow): the
-- pipeline-health dashboard's freshness panel reads it instead of the
-- partition metadata of 8 tables on every load, and computes how far
-- behind the clock each table is when it loads. So a snapshot can show a
-- table as further behind than it is (by at most its own age), never as
-- closer.
-- @every: 10s
SELECT layer, table_name, newest_event, current_timestamp AS taken_at
FROM gold.pipeline_event_freshness
