-- Successful buys and their revenue per UTC day, payment provider and
-- currency, under the revenue_by_provider view (business dashboard). Keys are never
-- null: a missing provider, provider name or currency is '' here (null
-- again in the view).
-- @key: day, provider, provider_name, currency
-- @partitioning: month(day)
-- @time: event_ts
SELECT date_trunc('day', event_ts) AS day, coalesce(provider, '') AS provider,
       coalesce(provider_name, '') AS provider_name, coalesce(currency, '') AS currency,
       count(*) AS transactions, sum(amount) AS revenue
FROM silver.events
WHERE NOT is_future AND type = 'buy' AND status = 'ok'
GROUP BY 1, 2, 3, 4
