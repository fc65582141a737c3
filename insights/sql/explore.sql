-- One explorer answer: cost of the period and of the previous one ({where} covers both;
-- rows before {start} are the previous period's), summed per group and date, the groups
-- ranked by their cost in the period, all but the top {limit} folded into Others (null
-- keys). Previous rows keep no date: only their total is shown.
WITH base AS (
    SELECT {keys},
           CASE WHEN c.day < {start} THEN NULL ELSE {bucket} END AS bucket,
           c.day < {start} AS previous,
           sum({amount}) AS amount
    FROM {table} AS c {joins}
    WHERE {where}
    GROUP BY {names}, bucket, previous
), ranked AS (
    SELECT {names},
           row_number() OVER (
               ORDER BY sum(amount) FILTER (WHERE NOT previous) DESC NULLS LAST,
                        sum(amount) FILTER (WHERE previous) DESC NULLS LAST, {names}
           ) AS rank
    FROM base
    GROUP BY {names}
)
SELECT r.rank > {limit} AS others, {ranked_keys}, b.bucket, b.previous, sum(b.amount)
FROM base AS b JOIN ranked AS r USING ({names})
GROUP BY {positions}
