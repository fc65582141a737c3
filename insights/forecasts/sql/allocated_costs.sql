-- The billed cost of each day in [%(start)s, %(end)s) of the values %(values)s of the
-- categories of the runs %(runs)s (the latest runs of each category and month), from the
-- runs' summaries per value and day (index allocsummary_run_grain).
SELECT r.category_id, s.value, s.day, sum(s.billed_cost)
FROM allocation_allocationsummary AS s
JOIN unnest(%(runs)s::int[], %(categories)s::int[]) AS r(run_id, category_id)
    ON r.run_id = s.run_id
WHERE s.by_service = false AND s.value = ANY(%(values)s)
  AND s.day >= %(start)s AND s.day < %(end)s
GROUP BY 1, 2, 3
