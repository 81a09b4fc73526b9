-- §5.1: the 10 client IPs with the most requests (ties by IP).
SELECT client_ip, sum(requests) AS requests, sum(bytes) AS bytes
FROM gold.access_ip_daily
GROUP BY client_ip
ORDER BY requests DESC, client_ip
LIMIT 10
