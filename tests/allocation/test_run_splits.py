"""Split rules in a run: each method to the cent, sums kept exactly, lineage rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.engine.splits import share
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


@pytest.mark.parametrize(
    ("amount", "weights", "parts"),
    [
        ("10.00", [1, 1, 1], ["3.34", "3.33", "3.33"]),
        ("-10.00", [1, 1, 1], ["-3.33", "-3.33", "-3.34"]),
        ("0.0000001", [1, 1, 1], ["0.0000001", "0", "0"]),
        ("7.005", [40, 60], ["2.80", "4.205"]),
        ("1.00", [1, 2], ["0.33", "0.67"]),
        ("100", ["33.3", "33.3", "33.4"], ["33.30", "33.30", "33.40"]),
    ],
)
def test_parts_are_floored_to_the_cent_and_sum_exactly(
    amount: str, weights: list[Any], parts: list[str]
) -> None:
    result = share(D(amount), [D(w) for w in weights])

    assert result == [D(p) for p in parts]
    assert sum(result, D(0)) == D(amount)


def test_zero_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        share(D(1), [D(0), D(0)])


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


TEAM_RULES = [{"kind": "inherited", "inherit_from": "tag:team"}]


def split(method: str, *targets: str, percents: tuple[str, ...] = ()) -> dict[str, Any]:
    values: list[dict[str, Any]] = [{"value": t} for t in targets]
    for target, percent in zip(values, percents, strict=False):
        target["percent"] = percent
    return {"source": "shared", "method": method, "targets": values}


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
