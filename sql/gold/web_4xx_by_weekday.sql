-- §5.1: 4xx responses per weekday (UTC), most first; rank 1 answers "which
-- weekday has the most 4xx errors".
SELECT
  day_of_week(day) AS iso_weekday,
  format_datetime(CAST(min(day) AS timestamp), 'EEEE') AS weekday,
  sum(requests) AS errors_4xx,
  rank() OVER (ORDER BY sum(requests) DESC) AS rank
FROM gold.access_daily
WHERE status_class = '4xx'
GROUP BY day_of_week(day)
