-- The billed cost of each day in [%(start)s, %(end)s): per service, and in all
-- (total = 1). The day_service grain keeps the service and sums everything else; the
-- costcube_grain_day index finds its rows.
SELECT GROUPING(service_name) AS total, service_name, day, sum(billed_cost)
FROM billing_costcube
WHERE grain = 'day_service' AND day >= %(start)s AND day < %(end)s
GROUP BY GROUPING SETS ((service_name, day), (day))
