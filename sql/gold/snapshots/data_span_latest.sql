-- data_span (rows and first/last event time per table and tier) as of
-- taken_at, at most a minute old where the gold refresh runs in a loop:
-- the pipeline-health dashboard's history panel reads it instead of the
-- partition metadata of the hot and archive tables on every load.
-- @every: 1m
SELECT tier, table_name, rows, partitions, first_day, last_day, current_timestamp AS taken_at
FROM gold.data_span
