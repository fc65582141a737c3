-- The daily cost of every series of one dimension over [start, end): one row per series
-- with its rows' days (offsets from start, repeated where a day has several rows: the
-- caller sums them) and amounts. Unsorted and summed by the caller: sorting on the text
-- keys or summing numerics per day here took three times as long. {key}, {table},
-- {joins}, {where} name the dimension's source: the cube's day grains (index
-- costcube_grain_day, or costcube_grain_account for named accounts) or the allocation
-- runs' summaries (index allocsummary_run_grain).
SELECT {key} AS key, array_agg(c.day - {start}), array_agg({amount})
FROM {table} AS c {joins}
WHERE c.day >= {start} AND c.day < {end} AND {where} AND {key} IS NOT NULL
GROUP BY 1
