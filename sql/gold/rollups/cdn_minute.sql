-- CDN bandwidth per minute and client, from the variables a declared
-- access-log format (config access_log_formats) leaves in extra; under the
-- cdn_bandwidth view and the CDN panels of the web traffic dashboard.
-- client: extra's customer_id, else the virtual host (nginx $host or
-- Apache %V, then $server_name or %v, then $http_host or %{Host}i), lower
-- case; '-' when the format logs none (the default format's rows all land
-- under '-'). A "-" value counts as not logged.
-- cache_hits: cache status HIT or UPDATING (served from the edge's cache).
-- bytes_user_edge: $request_length (%I); bytes_edge_origin: the same for
-- requests that were not cache hits; bytes_origin_edge:
-- $upstream_bytes_received, every number of its "a, b : c" list summed, "-"
-- is 0; bytes_edge_user: $bytes_sent (%O), or the response body bytes where
-- the format logs no bytes_sent. A figure the format does not log at all is
-- null, not 0 (a value too large for a bigint counts 0 in the list sum and
-- makes request_length or bytes_sent not logged).
-- Hot and archive tiers (a row mid-move counts once, as in access_logs_all).
-- @key: minute, client
-- @partitioning: day(minute)
-- @time: event_ts
-- @slice: 15m
SELECT
  date_trunc('minute', event_ts) AS minute,
  client,
  count(*) AS requests,
  count_if(cache_hit) AS cache_hits,
  sum(request_length) AS bytes_user_edge,
  -- a hit adds 0 where the format logs request_length, null where not
  sum(CASE WHEN NOT cache_hit THEN request_length WHEN request_length IS NOT NULL THEN 0 END) AS bytes_edge_origin,
  sum(upstream_bytes) AS bytes_origin_edge,
  sum(bytes_sent) AS bytes_edge_user
FROM (
  SELECT
    event_ts,
    coalesce(
      lower(nullif(element_at(extra, 'customer_id'), '-')),
      lower(nullif(element_at(extra, 'host'), '-')),
      lower(nullif(element_at(extra, 'server_name'), '-')),
      lower(nullif(element_at(extra, 'http_host'), '-')),
      '-') AS client,
    coalesce(upper(cache_status) IN ('HIT', 'UPDATING'), false) AS cache_hit,
    try_cast(element_at(extra, 'request_length') AS bigint) AS request_length,
    reduce(regexp_extract_all(element_at(extra, 'upstream_bytes_received'), '[0-9]+'), BIGINT '0',
      (s, x) -> s + coalesce(try_cast(x AS bigint), 0), s -> s) AS upstream_bytes,
    coalesce(try_cast(element_at(extra, 'bytes_sent') AS bigint), bytes) AS bytes_sent
  FROM (
    SELECT event_ts, extra, cache_status, bytes
    FROM silver.access_logs
    WHERE NOT is_future
    UNION ALL
    SELECT a.event_ts, a.extra, a.cache_status, a.bytes
    FROM archive.access_logs a
    WHERE NOT a.is_future
      AND NOT EXISTS (SELECT 1 FROM silver.access_logs h WHERE h.source_topic = a.source_topic AND h.source_partition = a.source_partition AND h.source_offset = a.source_offset)
  ) tiers
) cdn
GROUP BY 1, 2
