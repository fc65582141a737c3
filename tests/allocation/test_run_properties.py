"""Whatever the rules and splits, a run hands out every stored cent, no more, no less."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation.engine.split_results import COST_COLUMNS
from tests.allocation.run_helpers import category_with, ingest, run, totals, use_fake_files
from tests.billing.ingest_fakes import line

SERVICES = ["Amazon S3", "Amazon EC2", "AWS Lambda", None]
REGIONS = ["us-east-1", "eu-west-1", None]
TAGS = [None, '{"team": "web"}', '{"team": "Data", "env": "prod"}', '{"env": ""}']
VALUES = ["A", "B", "C"]
FIELDS = {
    "service": ["Amazon S3", "amazon", "EC2", "Lambda"],
    "region": ["us-east-1", "us-", "west"],
    "tag": ["web", "data", "prod"],
    "account": ["210000000001", "prod"],
}
ORDINAL = itertools.count()

amounts = st.decimals(
    min_value=Decimal("-50"), max_value=Decimal("50"), places=7, allow_nan=False
).map(str)


@st.composite
def line_items(draw: Any) -> dict[str, Any]:
    return line(
        service_name=draw(st.sampled_from(SERVICES)),
        region_id=draw(st.sampled_from(REGIONS)),
        tags=draw(st.sampled_from(TAGS)),
        sub_account_id=draw(st.sampled_from(["210000000001", "210000000002"])),
        billed_cost=draw(amounts),
        effective_cost=draw(amounts),
        list_cost=draw(amounts),
    )


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(
        st.sampled_from(
            ["equals", "one_of", "starts_with", "ends_with", "contains", "present", "absent"]
        )
    )
    node: dict[str, Any] = {"field": field, "op": op, "case_sensitive": draw(st.booleans())}
    if field == "tag":
        node["key"] = draw(st.sampled_from(["team", "env"]))
    if op == "equals":
        node["values"] = [draw(st.sampled_from(FIELDS[field]))]
    elif op not in ("present", "absent"):
        node["values"] = draw(st.lists(st.sampled_from(FIELDS[field]), min_size=1, max_size=2))
    return node


expressions = st.recursive(
    conditions(),
    lambda inner: st.one_of(
        st.builds(lambda nodes: {"all": nodes}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda nodes: {"any": nodes}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda node: {"not": node}, inner),
    ),
    max_leaves=4,
)
rules = st.one_of(
    st.builds(
        lambda value, expr: {"value": value, "expression": expr},
        st.sampled_from(VALUES),
        expressions,
    ),
    st.sampled_from(
        [
            {"kind": "inherited", "inherit_from": "tag:team"},
            {"kind": "inherited", "inherit_from": "account_name"},
        ]
    ),
)


@st.composite
def splits(draw: Any) -> list[dict[str, Any]]:
    if not draw(st.booleans()):
        return []
    source = draw(st.sampled_from([*VALUES, "Unallocated"]))
    others = [v for v in [*VALUES, "web"] if v != source]
    targets = draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True))
    method = draw(st.sampled_from(["even", "proportional", "fixed"]))
    chosen: list[dict[str, Any]] = [{"value": t} for t in targets]
    if method == "fixed":
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(1, 99),
                    min_size=len(targets) - 1,
                    max_size=len(targets) - 1,
                    unique=True,
                )
            )
        )
        bounds = [0, *cuts, 100]
        for target, low, high in zip(chosen, bounds, bounds[1:], strict=False):
            target["percent"] = str(high - low)
    return [{"source": source, "method": method, "targets": chosen}]


@pytest.mark.usefixtures("tenant_a")
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(line_items(), min_size=1, max_size=6),
    rule_list=st.lists(rules, max_size=4),
    split_list=splits(),
)
def test_every_cost_column_sums_to_what_was_ingested(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    items: list[dict[str, Any]],
    rule_list: list[dict[str, Any]],
    split_list: list[dict[str, Any]],
) -> None:
    number = next(ORDINAL)
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, items, name=f"jan-{number}.csv")
    category = category_with(f"Random {number}", rule_list, splits=split_list)

    allocation = run(category)

    for column in COST_COLUMNS:
        ingested = sum((Decimal(item[column]) for item in items), Decimal(0))
        assert sum(totals(allocation, column).values(), Decimal(0)) == ingested, column
