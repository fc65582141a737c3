-- Allocates one billing period's costs to a category's values in one statement: each
-- cost gets the value (and the id of the rule) of its first matching rule, then they are
-- grouped by value, day, payer (whose bill), account, service, usage type, pricing unit, operation, commitment
-- type (a missing one as ''), the keys of its tags that have a value, and rule into the temporary table allocation_rows, numbered by `id`, from which
-- split.sql writes the run's results.
--
-- It reads the period's cost rollup (billing_cost_rollup: the line items summed per day
-- and combination of the columns rules read, built by the ingest), not the line items.
-- The rules read only the columns `li` groups by (and the tag set and account they point
-- to), so they are evaluated once per distinct combination of those columns, not once per
-- rollup row: `li` gathers each combination's days, pricing units and sums into arrays,
-- the rules give each combination its value and rule, and the arrays are unnested into the
-- final grouping. Sums of sums are exact (numeric), so the results are those of grouping
-- the line items directly.
-- The period's rows are read from its partition only (billing_cost_rollup is partitioned
-- by billing_period_start); billing_tagset and billing_account are joined by their
-- primary key and by the unique (provider, account_id) index.
CREATE TEMPORARY TABLE allocation_rows ON COMMIT DROP AS
SELECT row_number() OVER () AS id, r.value, d.day, r.payer, r.sub_account_id, r.service_name,
       r.usage_type, COALESCE(d.pricing_unit, '') AS pricing_unit, r.operation,
       r.commitment, r.tag_keys,
       sum(d.billed_cost) AS billed_cost, sum(d.effective_cost) AS effective_cost,
       sum(d.list_cost) AS list_cost, sum(d.pricing_quantity) AS pricing_quantity,
       r.rule_id, sum(d.row_count)::bigint AS row_count
FROM (
    SELECT {value_case} AS value,
           {rule_case} AS rule_id,
           li.billing_account_id AS payer,
           COALESCE(li.sub_account_id, '') AS sub_account_id,
           COALESCE(li.service_name, '') AS service_name,
           COALESCE(li.x_usage_type, '') AS usage_type,
           COALESCE(li.x_operation, '') AS operation,
           COALESCE(li.commitment_discount_type, '') AS commitment,
           ARRAY(SELECT t.key FROM jsonb_each_text(ts.tags) AS t
                 WHERE t.value <> '' ORDER BY t.key) AS tag_keys,
           li.days, li.pricing_units, li.billed_costs, li.effective_costs, li.list_costs,
           li.pricing_quantities, li.row_counts
    FROM (
        SELECT g.tag_set_id, g.billing_account_id, g.sub_account_id, g.sub_account_name,
               g.service_name, g.region_id, g.charge_category, g.x_usage_type,
               g.x_operation, g.commitment_discount_type,
               array_agg(g.day) AS days,
               array_agg(g.pricing_unit) AS pricing_units,
               array_agg(g.billed_cost) AS billed_costs,
               array_agg(g.effective_cost) AS effective_costs,
               array_agg(g.list_cost) AS list_costs,
               array_agg(g.pricing_quantity) AS pricing_quantities,
               array_agg(g.row_count) AS row_counts
        FROM billing_cost_rollup AS g
        WHERE g.billing_period_start = %(period)s
        GROUP BY g.tag_set_id, g.billing_account_id, g.sub_account_id, g.sub_account_name,
                 g.service_name, g.region_id, g.charge_category, g.x_usage_type,
                 g.x_operation, g.commitment_discount_type
    ) AS li
    LEFT JOIN billing_tagset AS ts ON ts.id = li.tag_set_id
    LEFT JOIN billing_account AS acc
           ON acc.provider = %(provider)s AND acc.account_id = li.sub_account_id
    OFFSET 0  -- keeps the rules evaluated here, once per combination, not per row after
) AS r
CROSS JOIN LATERAL unnest(
    r.days, r.pricing_units, r.billed_costs, r.effective_costs, r.list_costs,
    r.pricing_quantities, r.row_counts
) AS d (day, pricing_unit, billed_cost, effective_cost, list_cost, pricing_quantity, row_count)
GROUP BY r.value, d.day, r.payer, r.sub_account_id, r.service_name, r.usage_type,
         COALESCE(d.pricing_unit, ''), r.operation, r.commitment, r.tag_keys, r.rule_id
