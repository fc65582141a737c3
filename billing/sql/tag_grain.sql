-- A smaller grain of the daily tag cost of one billing period and payer ({names}: the
-- dimensions it keeps besides the payer and charge category), summed from its "tag_account" rows (index dailytagcost_load).
INSERT INTO billing_dailytagcost (
    billing_period_start, billing_account_id, grain, day, {names}charge_category,
    tag_key, tag_value, billed_cost, effective_cost, list_cost
)
SELECT %(period)s, %(payer)s, %(grain)s, t.day, {columns}t.charge_category, t.tag_key,
       t.tag_value, trim_scale(sum(t.billed_cost)), trim_scale(sum(t.effective_cost)),
       trim_scale(sum(t.list_cost))
FROM billing_dailytagcost AS t
WHERE t.billing_period_start = %(period)s AND t.billing_account_id = %(payer)s
  AND t.grain = 'tag_account'
GROUP BY t.day, {columns}t.charge_category, t.tag_key, t.tag_value
