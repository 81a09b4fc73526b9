-- pipeline_storage (live data files, bytes and rows of every table) as of
-- taken_at, at most a minute old where the gold refresh runs in a loop:
-- the pipeline-health dashboard's storage panel reads it instead of the
-- partition metadata of some 35 tables on every load.
-- @every: 1m
SELECT tier, table_name, files, bytes, rows, current_timestamp AS taken_at
FROM gold.pipeline_storage
