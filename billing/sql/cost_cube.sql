-- The explorer's cost cube of one billing period and payer, from its cost rollup
-- ({rollup}: the payer's partition of billing_cost_rollup for the period): the "day"
-- grain (every dimension, summed over tag sets and pricing units) and the "month" grain
-- (one row per combination and tag set). The smaller daily grains come from the "day"
-- rows (cube_grain.sql).
INSERT INTO billing_costcube (
    billing_period_start, billing_account_id, grain, day, sub_account_id, service_name,
    region_id, charge_category, x_usage_type, tag_set_id,
    billed_cost, effective_cost, list_cost, row_count
)
SELECT %(period)s, %(payer)s, 'day', r.day, r.sub_account_id, r.service_name, r.region_id,
       r.charge_category, r.x_usage_type, NULL,
       trim_scale(sum(r.billed_cost)), trim_scale(sum(r.effective_cost)),
       trim_scale(sum(r.list_cost)), sum(r.row_count)
FROM {rollup} AS r
GROUP BY r.day, r.sub_account_id, r.service_name, r.region_id, r.charge_category, r.x_usage_type
UNION ALL
SELECT %(period)s, %(payer)s, 'month', %(period)s, r.sub_account_id, r.service_name,
       r.region_id, r.charge_category, r.x_usage_type, r.tag_set_id,
       trim_scale(sum(r.billed_cost)), trim_scale(sum(r.effective_cost)),
       trim_scale(sum(r.list_cost)), sum(r.row_count)
FROM {rollup} AS r
GROUP BY r.sub_account_id, r.service_name, r.region_id, r.charge_category, r.x_usage_type,
         r.tag_set_id
