-- A smaller daily grain of one billing period and payer ({names}: the dimensions it keeps
-- besides the payer and charge category), summed from the payer's "day" grain rows (index costcube_load).
INSERT INTO billing_costcube (
    billing_period_start, billing_account_id, grain, day, {names}charge_category,
    billed_cost, effective_cost, list_cost, row_count
)
SELECT %(period)s, %(payer)s, %(grain)s, c.day, {columns}c.charge_category,
       trim_scale(sum(c.billed_cost)), trim_scale(sum(c.effective_cost)),
       trim_scale(sum(c.list_cost)), sum(c.row_count)
FROM billing_costcube AS c
WHERE c.billing_period_start = %(period)s AND c.billing_account_id = %(payer)s
  AND c.grain = 'day'
GROUP BY c.day, {columns}c.charge_category
