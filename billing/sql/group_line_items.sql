-- A period and payer's staged line items grouped into its cost rollup (one scan): what
-- billing.ingest.summaries computes while reading, for loads whose amounts it cannot sum
-- exactly. Sums lose their trailing zeros, as the fast path's do.
INSERT INTO {rollup} ({columns})
SELECT (li.charge_period_start AT TIME ZONE 'UTC')::date,
       li.sub_account_id, li.sub_account_name, li.service_name, li.region_id,
       li.charge_category, li.x_usage_type, li.pricing_unit, li.x_operation,
       li.commitment_discount_type, li.tag_set_id,
       trim_scale(sum(li.billed_cost)), trim_scale(sum(li.effective_cost)),
       trim_scale(sum(li.list_cost)), trim_scale(sum(li.contracted_cost)),
       trim_scale(sum(li.pricing_quantity)), count(*)
FROM {line_items} AS li
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
