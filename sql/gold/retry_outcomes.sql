-- §5.6 summary: payments by number of attempts and outcome.
SELECT attempts, outcome, count(*) AS payments
FROM gold.payment_outcomes
GROUP BY attempts, outcome
