-- Allocates one billing period's line items to a category's values in one scan: each
-- row gets the value (and the id of the rule) of its first matching rule, then rows are
-- grouped by value, day, account, service (a missing one as '') and rule. The period's
-- rows are read from its partition only (billing_cost_line_item is partitioned by billing_period_start);
-- billing_tagset and billing_account are joined by their primary key and by the
-- unique (provider, account_id) index.
INSERT INTO allocation_allocationresult (
    run_id, value, day, sub_account_id, service_name, billed_cost, effective_cost,
    list_cost, rule_id, split_rule_id, split_from, row_count
)
SELECT %(run)s, r.value, r.day, r.sub_account_id, r.service_name,
       sum(r.billed_cost), sum(r.effective_cost), sum(r.list_cost), r.rule_id, NULL, '',
       count(*)
FROM (
    SELECT {value_case} AS value,
           {rule_case} AS rule_id,
           (li.charge_period_start AT TIME ZONE 'UTC')::date AS day,
           COALESCE(li.sub_account_id, '') AS sub_account_id,
           COALESCE(li.service_name, '') AS service_name,
           li.billed_cost, li.effective_cost, li.list_cost
    FROM billing_cost_line_item AS li
    LEFT JOIN billing_tagset AS ts ON ts.id = li.tag_set_id
    LEFT JOIN billing_account AS acc
           ON acc.provider = %(provider)s AND acc.account_id = li.sub_account_id
    WHERE li.billing_period_start = %(period)s
) AS r
GROUP BY r.value, r.day, r.sub_account_id, r.service_name, r.rule_id
