-- The daily cost of every series of one dimension over [start, end): one row per series
-- with its days (offsets from start) and amounts. {key}, {table}, {joins}, {where} name the
-- dimension's source: the cube's day grains (index costcube_grain_day, or
-- costcube_grain_account for named accounts) or the allocation runs' summaries (index
-- allocsummary_run_grain).
SELECT s.key,
       array_agg(s.day - {start} ORDER BY s.day),
       array_agg(s.amount{cast} ORDER BY s.day)
FROM (
    SELECT {key} AS key, c.day, sum(c.{metric}) AS amount
    FROM {table} AS c {joins}
    WHERE c.day >= {start} AND c.day < {end} AND {where}
    GROUP BY 1, 2
) AS s
WHERE s.key IS NOT NULL
GROUP BY s.key
