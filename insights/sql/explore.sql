-- One explorer answer: the cost rows of the period and of the previous one ({rows}: keys
-- k0.., the date bucket, whether the row is the previous period's, the amount), summed per
-- group and date, the groups ranked by their cost in the period, all but the top {limit}
-- folded into Others (null keys). Previous rows keep no date: only their total is shown.
WITH base AS (
    SELECT {names}, s.bucket, s.previous, sum(s.amount) AS amount
    FROM ({rows}) AS s
    GROUP BY {names}, s.bucket, s.previous
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
