-- §5.1: the number of (UTC) days with web traffic, and the first and last.
SELECT count(*) AS days, min(day) AS first_day, max(day) AS last_day
FROM (SELECT DISTINCT day FROM gold.access_daily)
