-- §5.9: every anomaly found in the data, one row each, newest first when sorted by at.
SELECT 'operation_burst' AS kind, window_start AS at, user_id,
       operation || ' x' || CAST(operations AS varchar) || ' in ' ||
       CAST(date_diff('second', window_start, window_end) AS varchar) || 's from ' ||
       format_datetime(window_start, 'HH:mm:ss') AS detail
FROM gold.anomaly_operation_bursts
UNION ALL
SELECT 'buy_then_refund', refunded_at, user_id,
       'item ' || item || ' refunded ' || CAST(seconds_between AS varchar) || 's after buying'
FROM gold.anomaly_buy_then_refund
