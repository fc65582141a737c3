-- Rebuilds the daily summaries of one billing period and payer from its cost rollup
-- ({rollup}: the payer's partition of billing_cost_rollup for the period), first summed
-- per day, account, service, region, charge category and tag set (few rows), then
-- unpivoted into one row per day, dimension and value. Tag values come from the small
-- tag set table, one dimension per configured key.
INSERT INTO billing_dailycostsummary (
    billing_period_start, billing_account_id, day, dimension, value,
    billed_cost, effective_cost, list_cost, contracted_cost, row_count
)
SELECT %(period)s, %(payer)s, g.day, d.dimension, d.value,
       trim_scale(sum(g.billed_cost)), trim_scale(sum(g.effective_cost)),
       trim_scale(sum(g.list_cost)), trim_scale(sum(g.contracted_cost)), sum(g.row_count)
FROM (
    SELECT r.day, r.sub_account_id, r.service_name, r.region_id, r.charge_category,
           r.tag_set_id, sum(r.billed_cost) AS billed_cost,
           sum(r.effective_cost) AS effective_cost, sum(r.list_cost) AS list_cost,
           sum(r.contracted_cost) AS contracted_cost, sum(r.row_count) AS row_count
    FROM {rollup} AS r
    GROUP BY 1, 2, 3, 4, 5, 6
) AS g
LEFT JOIN billing_tagset AS ts ON ts.id = g.tag_set_id
CROSS JOIN LATERAL (
    SELECT 'account', g.sub_account_id
    UNION ALL SELECT 'service', g.service_name
    UNION ALL SELECT 'region', g.region_id
    UNION ALL SELECT 'charge_category', g.charge_category
    UNION ALL SELECT 'tag:' || k.key, ts.tags ->> k.key FROM unnest(%(tag_keys)s::text[]) AS k(key)
) AS d(dimension, value)
GROUP BY g.day, d.dimension, d.value
