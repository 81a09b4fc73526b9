-- §5.1: the number of distinct client IPs.
SELECT count(DISTINCT client_ip) AS distinct_client_ips
FROM gold.access_ip_daily
