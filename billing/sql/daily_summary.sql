-- Rebuilds the daily summaries of one billing period and payer from its partition {table}
-- in one scan: rows are grouped by every dimension at once (few groups), then unpivoted.
-- Tag values come from the small tag set table, one dimension per configured key.
WITH grouped AS (
    SELECT (li.charge_period_start AT TIME ZONE 'UTC')::date AS day,
           li.sub_account_id, li.service_name, li.region_id, li.charge_category, li.tag_set_id,
           sum(li.billed_cost) AS billed_cost, sum(li.effective_cost) AS effective_cost,
           sum(li.list_cost) AS list_cost, sum(li.contracted_cost) AS contracted_cost,
           count(*) AS row_count
    FROM {table} AS li
    GROUP BY 1, 2, 3, 4, 5, 6
)
INSERT INTO billing_dailycostsummary (
    billing_period_start, billing_account_id, day, dimension, value,
    billed_cost, effective_cost, list_cost, contracted_cost, row_count
)
SELECT %(period)s, %(payer)s, g.day, d.dimension, d.value,
       sum(g.billed_cost), sum(g.effective_cost), sum(g.list_cost), sum(g.contracted_cost),
       sum(g.row_count)
FROM grouped AS g
LEFT JOIN billing_tagset AS ts ON ts.id = g.tag_set_id
CROSS JOIN LATERAL (
    SELECT 'account', g.sub_account_id
    UNION ALL SELECT 'service', g.service_name
    UNION ALL SELECT 'region', g.region_id
    UNION ALL SELECT 'charge_category', g.charge_category
    UNION ALL SELECT 'tag:' || k.key, ts.tags ->> k.key FROM unnest(%(tag_keys)s::text[]) AS k(key)
) AS d(dimension, value)
GROUP BY g.day, d.dimension, d.value
