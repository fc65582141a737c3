-- Writes a run's results from its rows before splits (allocation_rows, see allocate.sql)
-- with the split rules applied: the rows of values no split moves as they are, and each
-- row of a split's source value as one row per target holding its part of each cost
-- (no pricing quantity: a split moves cost, not usage), with the split rule and the source
-- value as lineage.
--
-- `target` has one row per split rule and target: its position (from 1) and weight per
-- cost column, from allocation.engine.split_results. A part is the cost times the weight
-- over the weights' sum, floored to the cent; the cents left over go one each to the parts
-- with the largest remainders (of equal ones, the earlier target), and what is left below
-- a cent to the part with the largest remainder, so the parts sum exactly to the cost.
-- All in numeric, exactly: with n = cost * weight * 100, a part has floor(n / total)
-- cents, from div() (which truncates exactly) corrected towards minus infinity, and a
-- remainder of (n - cents * total) / total, which orders as (n - cents * total) * sign(total).
-- The b_, e_ and l_ columns are those of billed, effective and list cost.
WITH target AS (
    SELECT t.split_rule_id, t.source, t.position, t.value,
           t.billed_weight * 100 AS b_weight, sum(t.billed_weight) OVER split AS b_total,
           t.effective_weight * 100 AS e_weight, sum(t.effective_weight) OVER split AS e_total,
           t.list_weight * 100 AS l_weight, sum(t.list_weight) OVER split AS l_total
    FROM unnest(
        %(split_rules)s::bigint[], %(sources)s::text[], %(positions)s::int[],
        %(values)s::text[], %(billed_weights)s::numeric[], %(effective_weights)s::numeric[],
        %(list_weights)s::numeric[]
    ) AS t (split_rule_id, source, position, value, billed_weight, effective_weight,
            list_weight)
    WINDOW split AS (PARTITION BY t.split_rule_id)
),
truncated AS MATERIALIZED (
    SELECT p.id, p.position, p.value, p.split_rule_id, p.billed_cost, p.effective_cost,
           p.list_cost, p.b_total, p.e_total, p.l_total,
           div(p.b_n, p.b_total) AS b_whole, p.b_n - div(p.b_n, p.b_total) * p.b_total AS b_rest,
           div(p.e_n, p.e_total) AS e_whole, p.e_n - div(p.e_n, p.e_total) * p.e_total AS e_rest,
           div(p.l_n, p.l_total) AS l_whole, p.l_n - div(p.l_n, p.l_total) * p.l_total AS l_rest
    FROM (
        SELECT r.id, t.position, t.value, t.split_rule_id, r.billed_cost, r.effective_cost,
               r.list_cost, t.b_total, t.e_total, t.l_total,
               r.billed_cost * t.b_weight AS b_n, r.effective_cost * t.e_weight AS e_n,
               r.list_cost * t.l_weight AS l_n
        FROM allocation_rows AS r
        JOIN target AS t ON t.source = r.value
    ) AS p
),
floored AS MATERIALIZED (
    -- Where the truncated quotient and its total differ in sign, the floor is one less.
    SELECT c.id, c.position, c.value, c.split_rule_id, c.billed_cost, c.effective_cost,
           c.list_cost,
           c.b_whole - c.b_below AS b_cents,
           (c.b_rest + c.b_below * c.b_total) * sign(c.b_total) AS b_remainder,
           c.e_whole - c.e_below AS e_cents,
           (c.e_rest + c.e_below * c.e_total) * sign(c.e_total) AS e_remainder,
           c.l_whole - c.l_below AS l_cents,
           (c.l_rest + c.l_below * c.l_total) * sign(c.l_total) AS l_remainder
    FROM (
        SELECT t.*,
               (t.b_rest <> 0 AND (t.b_rest < 0) <> (t.b_total < 0))::int AS b_below,
               (t.e_rest <> 0 AND (t.e_rest < 0) <> (t.e_total < 0))::int AS e_below,
               (t.l_rest <> 0 AND (t.l_rest < 0) <> (t.l_total < 0))::int AS l_below
        FROM truncated AS t
    ) AS c
),
left_over AS (
    -- Per source row and cost: its floored parts' cents, and the whole cents left over.
    SELECT f.id,
           sum(f.b_cents) AS b_floored,
           floor(min(f.billed_cost) * 100 - sum(f.b_cents)) AS b_left,
           sum(f.e_cents) AS e_floored,
           floor(min(f.effective_cost) * 100 - sum(f.e_cents)) AS e_left,
           sum(f.l_cents) AS l_floored,
           floor(min(f.list_cost) * 100 - sum(f.l_cents)) AS l_left
    FROM floored AS f
    GROUP BY f.id
),
ranked AS (
    SELECT f.*,
           row_number() OVER (PARTITION BY f.id ORDER BY f.b_remainder DESC, f.position)
           AS b_place,
           row_number() OVER (PARTITION BY f.id ORDER BY f.e_remainder DESC, f.position)
           AS e_place,
           row_number() OVER (PARTITION BY f.id ORDER BY f.l_remainder DESC, f.position)
           AS l_place
    FROM floored AS f
),
part AS (
    -- A cent more for the first places, and what is below a cent for the first.
    SELECT k.id, k.value, k.split_rule_id,
           (k.b_cents + (k.b_place <= o.b_left)::int) * 0.01
           + CASE WHEN k.b_place = 1 THEN k.billed_cost - (o.b_floored + o.b_left) * 0.01
                  ELSE 0 END AS billed_cost,
           (k.e_cents + (k.e_place <= o.e_left)::int) * 0.01
           + CASE WHEN k.e_place = 1 THEN k.effective_cost - (o.e_floored + o.e_left) * 0.01
                  ELSE 0 END AS effective_cost,
           (k.l_cents + (k.l_place <= o.l_left)::int) * 0.01
           + CASE WHEN k.l_place = 1 THEN k.list_cost - (o.l_floored + o.l_left) * 0.01
                  ELSE 0 END AS list_cost
    FROM ranked AS k
    JOIN left_over AS o ON o.id = k.id
)
INSERT INTO allocation_allocationresult (
    run_id, value, day, payer, sub_account_id, service_name, usage_type, pricing_unit, operation,
    commitment, tag_keys, billed_cost, effective_cost, list_cost, pricing_quantity, rule_id, split_rule_id,
    split_from, row_count
)
SELECT %(run)s, r.value, r.day, r.payer, r.sub_account_id, r.service_name, r.usage_type,
       r.pricing_unit, r.operation, r.commitment, r.tag_keys, r.billed_cost, r.effective_cost, r.list_cost, r.pricing_quantity,
       r.rule_id, NULL, '', r.row_count
FROM allocation_rows AS r
WHERE r.value NOT IN (SELECT target.source FROM target)
UNION ALL
SELECT %(run)s, p.value, r.day, r.payer, r.sub_account_id, r.service_name, r.usage_type,
       r.pricing_unit, r.operation, r.commitment, r.tag_keys, p.billed_cost, p.effective_cost, p.list_cost, NULL, r.rule_id,
       p.split_rule_id, r.value, r.row_count
FROM part AS p
JOIN allocation_rows AS r ON r.id = p.id
