-- Rebuilds the daily tag cost of one billing period and payer from its cost rollup
-- ({rollup}), first summed per day, account, service and tag set (few rows), then one row
-- per summarized key and value; untagged cost under a null value, so each key adds up to
-- the whole bill.
INSERT INTO billing_dailytagcost (
    billing_period_start, billing_account_id, day, sub_account_id, service_name, tag_key,
    tag_value, billed_cost, effective_cost, list_cost
)
SELECT %(period)s, %(payer)s, g.day, g.sub_account_id, g.service_name, k.key,
       ts.tags ->> k.key, trim_scale(sum(g.billed_cost)), trim_scale(sum(g.effective_cost)),
       trim_scale(sum(g.list_cost))
FROM (
    SELECT r.day, r.sub_account_id, r.service_name, r.tag_set_id,
           sum(r.billed_cost) AS billed_cost, sum(r.effective_cost) AS effective_cost,
           sum(r.list_cost) AS list_cost
    FROM {rollup} AS r
    GROUP BY 1, 2, 3, 4
) AS g
LEFT JOIN billing_tagset AS ts ON ts.id = g.tag_set_id
CROSS JOIN unnest(%(tag_keys)s::text[]) AS k(key)
GROUP BY g.day, g.sub_account_id, g.service_name, k.key, ts.tags ->> k.key
