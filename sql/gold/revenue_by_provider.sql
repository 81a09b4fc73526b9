-- Successful buys and revenue per day and payment provider, for the business dashboard.
SELECT date_trunc('day', event_ts) AS day, provider, provider_name, currency,
       count(*) AS transactions, sum(amount) AS revenue
FROM silver.events
WHERE NOT is_future AND type = 'buy' AND status = 'ok'
GROUP BY 1, 2, 3, 4
