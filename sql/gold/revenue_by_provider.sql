-- Successful buys and revenue per day and payment provider, for the business
-- dashboard, from the revenue_daily rollup.
SELECT day, nullif(provider, '') AS provider, nullif(provider_name, '') AS provider_name,
       nullif(currency, '') AS currency, transactions, revenue
FROM gold.revenue_daily
