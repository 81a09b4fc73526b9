-- §5.1: the 6 most requested endpoints that are not static files (ties by endpoint).
SELECT endpoint, sum(requests) AS requests, sum(errors) AS errors
FROM gold.access_endpoint_daily
GROUP BY endpoint
ORDER BY requests DESC, endpoint
LIMIT 6
