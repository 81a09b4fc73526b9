-- Application log lines per hour and message pattern (numbers and hex ids
-- masked), with the last time a pattern was seen and one example message;
-- the "Top messages" panel. From the log_patterns_hourly rollup.
SELECT hour, level, service, nullif(node, '') AS node, nullif(module, '') AS module, nullif(file, '') AS file,
       nullif(line, 0) AS line, pattern, lines, last_seen, example
FROM gold.log_patterns_hourly
