-- A payer's month of usage line items that name a resource ({line_items}: its attached
-- partition), summed per ISO week and combination of the columns rules and efficiency
-- signals read: what each resource cost in each week.
INSERT INTO billing_resourceweekcost (
    billing_period_start, billing_account_id, week, sub_account_id, sub_account_name,
    service_name, region_id, charge_category, x_usage_type, x_operation,
    commitment_discount_type, tag_set_id, resource_id, effective_cost, row_count
)
SELECT %(period)s, %(payer)s,
       date_trunc('week', li.charge_period_start AT TIME ZONE 'UTC')::date,
       li.sub_account_id, li.sub_account_name, li.service_name, li.region_id,
       li.charge_category, li.x_usage_type, li.x_operation, li.commitment_discount_type,
       li.tag_set_id, li.resource_id, trim_scale(sum(li.effective_cost)), count(*)
FROM {line_items} AS li
WHERE li.charge_category = 'Usage' AND li.resource_id <> ''
GROUP BY 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
