"""manage.py reconcile prints columns a reader can tell apart: labels whole, amounts aligned."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from invoices.models import BillingUnit
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.world import allocate, plan, seller, unit, usage

LONG_NAME = "Globex Interplanetary Logistics and Freight Holdings (Europe) Ltd."
# Under the store's 10^14 limit, with more digits than any fixed column would hold.
GLOBEX = (
    "98765432109876.123456789012",
    "91234567890123.987654321098",
    "99999999999999.999999999999",
)
INITECH = ("12.5", "12.25", "13")
SUPPORT = ("0.000000000001", "0.000000000001", "0.000000000002")


def _used_once(
    customer: str | None, service: str, usage_type: str, costs: tuple[str, str, str]
) -> dict[str, Any]:
    """A usage line of quantity 1 with its billed, effective and list cost."""
    billed, effective, list_cost = costs
    return usage(
        customer, service, usage_type, billed, "1", effective=effective, list_cost=list_cost
    )


@pytest.fixture
def big_month(files: FakeFiles) -> str:
    """A month of large Globex costs, reconciled; the printed output."""
    rows = [
        _used_once("globex", "Amazon EC2", "BoxUsage:u-24tb1.metal", GLOBEX),
        _used_once("initech", "Amazon RDS", "InstanceUsage:db.t3.small", INITECH),
        _used_once(None, "AWS Support (Business)", "Support", SUPPORT),
    ]
    allocate(files, rows)
    seller()
    unit("Globex", plan(everything="10"))
    unit("Initech", None)
    BillingUnit.objects.filter(value="Globex").update(name=LONG_NAME)
    out = StringIO()
    call_command("reconcile", "--tenant", "alpha", "--period", "2026-01", stdout=out)
    return out.getvalue()


def cells(line: str) -> list[str]:
    """A line's columns: text separated by two spaces or more."""
    return re.split(r" {2,}", line.strip())


def column_ends(line: str) -> list[int]:
    return [match.end() for match in re.finditer(r"\S+(?: \S+)*", line)]


def table(output: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """The heading line, each row's figures by label, and the rows' lines."""
    lines = output.splitlines()
    heading = next(line for line in lines if "BilledCost" in line)
    rows = [line for line in lines if len(cells(line)) == 4 and line is not heading]
    return heading, {cells(line)[0]: cells(line)[1:] for line in rows}, rows


def test_every_row_splits_into_its_label_and_three_figures(big_month: str) -> None:
    heading, rows, _ = table(big_month)

    total = [f"{sum(Decimal(part[i]) for part in (GLOBEX, INITECH, SUPPORT)):f}" for i in range(3)]
    assert cells(heading) == ["BilledCost", "EffectiveCost", "ListCost"]
    assert rows["Ingested"] == total
    assert rows[LONG_NAME] == list(GLOBEX)
    assert rows["Initech Inc."] == list(INITECH)
    assert rows["Unallocated (Unallocated)"] == list(SUPPORT)
    assert rows["Difference"] == ["0.000000000000"] * 3


def test_labels_are_whole_and_figures_right_aligned_under_their_heading(big_month: str) -> None:
    heading, _, lines = table(big_month)

    assert any(LONG_NAME in line for line in lines)
    for line in lines:
        assert column_ends(line)[-3:] == column_ends(heading), line
        assert "  " in line.strip()
