-- The summaries of runs' results (index allocresult_run_value): per value and day, and
-- per value, day and service.
INSERT INTO allocation_allocationsummary (
    run_id, by_service, value, day, service_name, billed_cost, effective_cost, list_cost
)
SELECT r.run_id, true, r.value, r.day, r.service_name, trim_scale(sum(r.billed_cost)),
       trim_scale(sum(r.effective_cost)), trim_scale(sum(r.list_cost))
FROM allocation_allocationresult AS r
WHERE r.run_id = ANY(%(runs)s)
GROUP BY r.run_id, r.value, r.day, r.service_name
UNION ALL
SELECT r.run_id, false, r.value, r.day, '', trim_scale(sum(r.billed_cost)),
       trim_scale(sum(r.effective_cost)), trim_scale(sum(r.list_cost))
FROM allocation_allocationresult AS r
WHERE r.run_id = ANY(%(runs)s)
GROUP BY r.run_id, r.value, r.day
