-- The largest line items (by billed cost, either sign) that a run's rules gave one value.
-- As in allocate.sql, the rules are evaluated once per combination of the columns they
-- read (the period's cost rollup has each combination), not once per line item; the
-- period's line items of the matching combinations are then read from its partition. A
-- combination is matched as the text of its row, which tells NULL from '' exactly and
-- lets PostgreSQL hash the join.
WITH matching AS (
    SELECT ROW(li.tag_set_id, li.billing_account_id, li.sub_account_id, li.sub_account_name,
               li.service_name, li.region_id, li.charge_category, li.x_usage_type)::text AS key
    FROM (
        SELECT DISTINCT tag_set_id, billing_account_id, sub_account_id, sub_account_name,
               service_name, region_id, charge_category, x_usage_type
        FROM billing_cost_rollup
        WHERE billing_period_start = %(period)s
    ) AS li
    LEFT JOIN billing_tagset AS ts ON ts.id = li.tag_set_id
    LEFT JOIN billing_account AS acc
           ON acc.provider = %(provider)s AND acc.account_id = li.sub_account_id
    WHERE {value_case} = %(value)s
)
SELECT li.id, (li.charge_period_start AT TIME ZONE 'UTC')::date AS day,
       COALESCE(li.sub_account_id, '') AS sub_account_id,
       COALESCE(li.service_name, '') AS service_name,
       COALESCE(li.x_usage_type, '') AS usage_type,
       COALESCE(li.resource_id, '') AS resource_id,
       li.billed_cost, li.effective_cost, li.list_cost
FROM billing_cost_line_item AS li
JOIN matching AS m
  ON m.key = ROW(li.tag_set_id, li.billing_account_id, li.sub_account_id, li.sub_account_name,
                 li.service_name, li.region_id, li.charge_category, li.x_usage_type)::text
WHERE li.billing_period_start = %(period)s
ORDER BY abs(li.billed_cost) DESC, li.id
LIMIT %(limit)s
