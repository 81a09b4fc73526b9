-- §5.4: distinct users viewing (page view) and buying (successful buy) per
-- interval; grain is one of 15m, 1h, 3h, 1d.
SELECT grain, bucket, active_users, viewing_users, buying_users
FROM gold.active_users
