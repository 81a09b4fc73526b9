-- pipeline_freshness (the last commit of every bronze and silver table and
-- of the gold rollups) as of taken_at, at most 10 seconds older than the
-- last gold refresh where it runs in a loop (weir-follow): the
-- pipeline-health dashboard's freshness panel reads it instead of the
-- snapshot metadata of 8 tables on every load, and computes the age
-- against the clock when it loads. So a table that stopped committing ages
-- on the panel between snapshots too, and a snapshot can show a table as
-- staler than it is (by at most its own age), never as fresher.
-- @every: 10s
SELECT layer, table_name, last_commit_at, current_timestamp AS taken_at
FROM gold.pipeline_freshness
