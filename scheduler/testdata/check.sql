-- Used by full.good.yaml: a templated Trino query.
SELECT count(*) FROM (VALUES 1) AS t(x) WHERE {{ sqlts .DataIntervalStart }} < {{ sqlts .DataIntervalEnd }} OR true
