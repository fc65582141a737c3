-- One series' cost per day and value of each root cause dimension, over the anomaly's
-- days and their baseline days ({where} restricts to the series: an account or service in
-- the cube's "day" grain, by index costcube_grain_account or costcube_grain_day; a team's
-- or unit's value in its runs' results, by index allocresult_run_value).
SELECT d.dimension, d.value, c.day, sum(c.{metric})
FROM {table} AS c
CROSS JOIN LATERAL (VALUES {dimensions}) AS d(dimension, value)
WHERE c.day = ANY(%(days)s) AND {where} AND d.value IS NOT NULL
GROUP BY 1, 2, 3
