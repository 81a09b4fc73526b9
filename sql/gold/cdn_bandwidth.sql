-- CDN bandwidth per minute and client with the cache-hit ratio (cache hits
-- over requests); the bytes each way as in the cdn_minute rollup (null
-- where the format does not log them). Issue 17 item 2.
SELECT
  minute,
  client,
  requests,
  cache_hits,
  CAST(cache_hits AS double) / requests AS cache_hit_ratio,
  bytes_user_edge,
  bytes_edge_origin,
  bytes_origin_edge,
  bytes_edge_user
FROM gold.cdn_minute
