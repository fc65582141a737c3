-- The "tag_pair" grain of the daily tag cost of one billing period and payer: cost per
-- day, charge category and values of two summarized keys at once (tag_key < pair_key),
-- from its cost rollup ({rollup}), for queries that group by one key and filter by another.
INSERT INTO billing_dailytagcost (
    billing_period_start, billing_account_id, grain, day, charge_category, tag_key,
    tag_value, pair_key, pair_value, billed_cost, effective_cost, list_cost
)
SELECT %(period)s, %(payer)s, 'tag_pair', g.day, g.charge_category, k.key, ts.tags ->> k.key,
       p.key, ts.tags ->> p.key, trim_scale(sum(g.billed_cost)),
       trim_scale(sum(g.effective_cost)), trim_scale(sum(g.list_cost))
FROM (
    SELECT r.day, r.charge_category, r.tag_set_id, sum(r.billed_cost) AS billed_cost,
           sum(r.effective_cost) AS effective_cost, sum(r.list_cost) AS list_cost
    FROM {rollup} AS r
    GROUP BY 1, 2, 3
) AS g
LEFT JOIN billing_tagset AS ts ON ts.id = g.tag_set_id
CROSS JOIN unnest(%(tag_keys)s::text[]) AS k(key)
CROSS JOIN unnest(%(tag_keys)s::text[]) AS p(key)
WHERE k.key < p.key COLLATE "C"  -- the order Python sorts the keys in
GROUP BY g.day, g.charge_category, k.key, ts.tags ->> k.key, p.key, ts.tags ->> p.key
