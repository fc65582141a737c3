"""Split rules in a run: each method to the cent, sums kept exactly, lineage rows."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from allocation.models import AllocationResult
from tests.allocation.run_helpers import (
    category_with,
    cond,
    ingest,
    regular,
    run,
    totals,
    use_fake_files,
)
from tests.billing.ingest_fakes import FakeFiles, line

D = Decimal


def exact_parts(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """The parts a split gives, as specified, in exact fractions: each floored to the
    cent, the leftover cents one each to the largest remainders (the earlier target of
    equal ones), what is left below a cent to the largest remainder."""
    total = sum((Fraction(w) for w in weights), Fraction(0))
    hundredths = [Fraction(amount) * Fraction(w) / total * 100 for w in weights]
    cents = [math.floor(h) for h in hundredths]
    order = sorted(range(len(weights)), key=lambda i: (cents[i] - hundredths[i], i))
    for i in order[: math.floor(Fraction(amount) * 100 - sum(cents))]:
        cents[i] += 1
    parts = [Decimal(c).scaleb(-2) for c in cents]
    parts[order[0]] += amount - sum(parts, Decimal(0))
    return parts


def split(method: str, *targets: str, percents: tuple[str, ...] = ()) -> dict[str, Any]:
    values: list[dict[str, Any]] = [{"value": t} for t in targets]
    for target, percent in zip(values, percents, strict=False):
        target["percent"] = percent
    return {"source": "shared", "method": method, "targets": values}


TEAM_RULES = [{"kind": "inherited", "inherit_from": "tag:team"}]


ORDINAL = itertools.count()


def moved_parts(
    files: FakeFiles, amounts: list[str], rule: dict[str, Any], own: dict[str, str] | None = None
) -> list[list[D]]:
    """Per line item of `amounts` (each its own day), the billed cost its split parts got,
    in target order. `own` gives targets costs of their own (on the 28th)."""
    rows = [
        line(
            billed_cost=amount,
            tags='{"team": "shared"}',
            charge_period_start=f"2026-01-{day:02d}T00:00:00Z",
        )
        for day, amount in enumerate(amounts, start=1)
    ]
    rows += [
        line(
            billed_cost=cost,
            tags=f'{{"team": "{value}"}}',
            charge_period_start="2026-01-28T00:00:00Z",
        )
        for value, cost in (own or {}).items()
    ]
    number = next(ORDINAL)
    ingest(files, rows, name=f"split-{number}.csv")
    category = category_with(f"Team {number}", TEAM_RULES, splits=[rule])
    allocation = run(category)
    order = [target["value"] for target in rule["targets"]]
    moved = AllocationResult.objects.filter(run=allocation, split_from="shared")
    parts: dict[int, dict[str, D]] = {}
    for row in moved:
        parts.setdefault(row.day.day, {})[row.value] = row.billed_cost
    return [[parts[day][value] for value in order] for day in sorted(parts)]


@pytest.mark.usefixtures("tenant_a")
@pytest.mark.parametrize(
    ("amount", "rule", "own", "parts"),
    [
        ("10.00", split("even", "a", "b", "c"), {}, ["3.34", "3.33", "3.33"]),
        ("-10.00", split("even", "a", "b", "c"), {}, ["-3.33", "-3.33", "-3.34"]),
        ("0.0000001", split("even", "a", "b", "c"), {}, ["0.0000001", "0", "0"]),
        ("7.005", split("fixed", "a", "b", percents=("40", "60")), {}, ["2.80", "4.205"]),
        ("1.00", split("proportional", "a", "b"), {"a": "1", "b": "2"}, ["0.33", "0.67"]),
        (
            "100",
            split("fixed", "a", "b", "c", percents=("33.3", "33.3", "33.4")),
            {},
            ["33.30", "33.30", "33.40"],
        ),
    ],
)
def test_parts_are_floored_to_the_cent_and_sum_exactly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    amount: str,
    rule: dict[str, Any],
    own: dict[str, str],
    parts: list[str],
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)

    [result] = moved_parts(files, [amount], rule, own)

    assert result == [D(p) for p in parts]
    assert sum(result, D(0)) == D(amount)


amounts = st.decimals(min_value=D("-10000"), max_value=D("10000"), places=9, allow_nan=False).map(
    str
)
ORDINAL = itertools.count()


@pytest.mark.usefixtures("tenant_a")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    costs=st.lists(amounts, min_size=1, max_size=5),
    weights=st.lists(amounts, min_size=1, max_size=4),
)
def test_every_split_part_is_exactly_as_specified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, costs: list[str], weights: list[str]
) -> None:
    assume(sum(D(w) for w in weights) != 0)
    files = use_fake_files(tmp_path, monkeypatch)
    targets = [f"t{i}" for i in range(len(weights))]

    # A proportional split's weights are the targets' own costs.
    found = moved_parts(
        files, costs, split("proportional", *targets), own=dict(zip(targets, weights, strict=True))
    )

    assert found == [exact_parts(D(cost), [D(w) for w in weights]) for cost in costs]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    fake = use_fake_files(tmp_path, monkeypatch)
    ingest(
        fake,
        [
            line(billed_cost="10.00", effective_cost="0.0000001", tags='{"team": "shared"}'),
            line(billed_cost="1.00", effective_cost="0", tags='{"team": "web"}'),
            line(billed_cost="3.00", effective_cost="0", tags='{"team": "data"}'),
            line(billed_cost="5.00", effective_cost="2", tags='{"team": "ops"}'),
        ],
    )
    return fake


@pytest.mark.usefixtures("tenant_a")
def test_an_even_split_gives_the_cents_to_the_largest_remainders(files: FakeFiles) -> None:
    category = category_with("Team", TEAM_RULES, splits=[split("even", "web", "data", "ops")])

    allocation = run(category)

    assert totals(allocation) == {"web": D("4.34"), "data": D("6.33"), "ops": D("8.33")}
    effective = totals(allocation, "effective_cost")
    assert effective == {"web": D("0.0000001"), "data": 0, "ops": 2}
    moved = AllocationResult.objects.filter(run=allocation, split_from="shared")
    assert sorted((r.value, r.billed_cost) for r in moved) == [
        ("data", D("3.33")),
        ("ops", D("3.33")),
        ("web", D("3.34")),
    ]
    assert {r.split_rule.position for r in moved if r.split_rule} == {1}
    assert not AllocationResult.objects.filter(run=allocation, value="shared").exists()


@pytest.mark.usefixtures("tenant_a")
def test_a_proportional_split_follows_the_targets_own_costs(files: FakeFiles) -> None:
    category = category_with("Team", TEAM_RULES, splits=[split("proportional", "web", "data")])

    allocation = run(category)

    assert totals(allocation) == {"web": D("3.50"), "data": D("10.50"), "ops": 5}
    # The targets have no effective cost: that column is split evenly, with a note.
    effective = totals(allocation, "effective_cost")
    assert effective == {"web": D("0.0000001"), "data": 0, "ops": 2}
    assert any("effective_cost" in note and "evenly" in note for note in allocation.notes)


@pytest.mark.usefixtures("tenant_a")
def test_a_fixed_split_uses_the_percentages(files: FakeFiles) -> None:
    splits = [split("fixed", "web", "data", percents=("33.3", "66.7"))]
    category = category_with("Team", TEAM_RULES, splits=splits)

    allocation = run(category)

    assert totals(allocation) == {"web": D("4.33"), "data": D("9.67"), "ops": 5}
    assert sum(totals(allocation).values()) == D("19.00")


@pytest.mark.usefixtures("tenant_a")
def test_the_unallocated_costs_can_be_split(tmp_path: Path, monkeypatch: Any) -> None:
    fake = use_fake_files(tmp_path, monkeypatch)
    ingest(fake, [line(billed_cost="1.00", service_name="Amazon S3"), line(billed_cost="0.01")])
    rules = [regular("Storage", cond("service", "equals", "Amazon S3"))]
    splits = [
        {"source": "Unallocated", "method": "even", "targets": [{"value": "A"}, {"value": "B"}]}
    ]
    category = category_with("Kind", rules, splits=splits)

    assert totals(run(category)) == {"Storage": 1, "A": D("0.01"), "B": 0}
