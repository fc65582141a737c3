-- The rows of one period and payer's partition, grouped for its daily summaries (one scan).
SELECT (li.charge_period_start AT TIME ZONE 'UTC')::date AS day,
       li.sub_account_id, li.service_name, li.region_id, li.charge_category, li.tag_set_id,
       sum(li.billed_cost) AS billed_cost, sum(li.effective_cost) AS effective_cost,
       sum(li.list_cost) AS list_cost, sum(li.contracted_cost) AS contracted_cost,
       count(*) AS row_count
FROM {table} AS li
GROUP BY 1, 2, 3, 4, 5, 6
