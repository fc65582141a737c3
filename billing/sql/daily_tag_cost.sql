-- The daily tag cost of one billing period and payer in its "tag_account" grain, from
-- its cost rollup ({rollup}): first summed per day, account, service, charge category
-- and tag set (few rows), then one row per summarized key and value; untagged cost under
-- a null value, so each key adds up to the whole bill. The smaller grains come from
-- these rows (tag_grain.sql).
INSERT INTO billing_dailytagcost (
    billing_period_start, billing_account_id, grain, day, sub_account_id, service_name,
    charge_category, tag_key, tag_value, billed_cost, effective_cost, list_cost
)
SELECT %(period)s, %(payer)s, 'tag_account', g.day, g.sub_account_id, g.service_name,
       g.charge_category, k.key, ts.tags ->> k.key, trim_scale(sum(g.billed_cost)),
       trim_scale(sum(g.effective_cost)), trim_scale(sum(g.list_cost))
FROM (
    SELECT r.day, r.sub_account_id, r.service_name, r.charge_category, r.tag_set_id,
           sum(r.billed_cost) AS billed_cost, sum(r.effective_cost) AS effective_cost,
           sum(r.list_cost) AS list_cost
    FROM {rollup} AS r
    GROUP BY 1, 2, 3, 4, 5
) AS g
LEFT JOIN billing_tagset AS ts ON ts.id = g.tag_set_id
CROSS JOIN unnest(%(tag_keys)s::text[]) AS k(key)
GROUP BY g.day, g.sub_account_id, g.service_name, g.charge_category, k.key, ts.tags ->> k.key
