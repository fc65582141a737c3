-- Allocates one billing period's line items to a category's values in one statement: each
-- line item gets the value (and the id of the rule) of its first matching rule, then they
-- are grouped by value, day, account, service (a missing one as '') and rule.
--
-- The rules read only the line item columns `g` groups by (and the tag set and account
-- they point to), so the rules are evaluated once per distinct combination of those
-- columns, not once per line item: `g` sums the line items per combination and day, `li`
-- gathers each combination's days and sums into arrays, the rules give each combination
-- its value and rule, and the arrays are unnested into the final grouping. Sums of sums
-- are exact (numeric), so the results are those of grouping the line items directly.
-- The period's rows are read from its partition only (billing_cost_line_item is
-- partitioned by billing_period_start); billing_tagset and billing_account are joined by
-- their primary key and by the unique (provider, account_id) index.
INSERT INTO allocation_allocationresult (
    run_id, value, day, sub_account_id, service_name, billed_cost, effective_cost,
    list_cost, rule_id, split_rule_id, split_from, row_count
)
SELECT %(run)s, r.value, d.day, r.sub_account_id, r.service_name,
       sum(d.billed_cost), sum(d.effective_cost), sum(d.list_cost), r.rule_id, NULL, '',
       sum(d.row_count)::bigint
FROM (
    SELECT {value_case} AS value,
           {rule_case} AS rule_id,
           COALESCE(li.sub_account_id, '') AS sub_account_id,
           COALESCE(li.service_name, '') AS service_name,
           li.days, li.billed_costs, li.effective_costs, li.list_costs, li.row_counts
    FROM (
        SELECT g.tag_set_id, g.billing_account_id, g.sub_account_id, g.sub_account_name,
               g.service_name, g.region_id, g.charge_category, g.x_usage_type,
               array_agg(g.day) AS days,
               array_agg(g.billed_cost) AS billed_costs,
               array_agg(g.effective_cost) AS effective_costs,
               array_agg(g.list_cost) AS list_costs,
               array_agg(g.row_count) AS row_counts
        FROM (
            SELECT tag_set_id, billing_account_id, sub_account_id, sub_account_name,
                   service_name, region_id, charge_category, x_usage_type,
                   (charge_period_start AT TIME ZONE 'UTC')::date AS day,
                   sum(billed_cost) AS billed_cost, sum(effective_cost) AS effective_cost,
                   sum(list_cost) AS list_cost, count(*) AS row_count
            FROM billing_cost_line_item
            WHERE billing_period_start = %(period)s
            GROUP BY tag_set_id, billing_account_id, sub_account_id, sub_account_name,
                     service_name, region_id, charge_category, x_usage_type, day
        ) AS g
        GROUP BY g.tag_set_id, g.billing_account_id, g.sub_account_id, g.sub_account_name,
                 g.service_name, g.region_id, g.charge_category, g.x_usage_type
    ) AS li
    LEFT JOIN billing_tagset AS ts ON ts.id = li.tag_set_id
    LEFT JOIN billing_account AS acc
           ON acc.provider = %(provider)s AND acc.account_id = li.sub_account_id
    OFFSET 0  -- keeps the rules evaluated here, once per combination, not per day after
) AS r
CROSS JOIN LATERAL unnest(
    r.days, r.billed_costs, r.effective_costs, r.list_costs, r.row_counts
) AS d (day, billed_cost, effective_cost, list_cost, row_count)
GROUP BY r.value, d.day, r.sub_account_id, r.service_name, r.rule_id
