"""Putting line items in through the real ingest and reading an allocation run's totals."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationRun, CostCategory
from allocation.services import cost_category_create, ruleset_create
from billing.ingest import pipeline
from billing.models import IngestStatus
from billing.services.ingests import ingest_job_create
from tests.billing.ingest_fakes import FakeFiles, batch

JAN = date(2026, 1, 1)


def ingest(files: FakeFiles, rows: list[dict[str, Any]], name: str = "jan.csv") -> None:
    job = ingest_job_create(actor=None, paths=[files.add(name, batch(rows))], enqueue=False)
    job = pipeline.run_ingest(job.pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message


def category_with(
    name: str,
    rules: list[dict[str, Any]],
    *,
    splits: list[dict[str, Any]] | None = None,
    default_value: str = "",
) -> CostCategory:
    category = cost_category_create(actor=None, name=name, default_value=default_value)
    ruleset_create(actor=None, category=category, effective_month=JAN, rules=rules, splits=splits)
    return category


def run(category: CostCategory, period: date = JAN) -> AllocationRun:
    return allocation_run_now(actor=None, category=category, period=period)


def totals(run: AllocationRun, column: str = "billed_cost") -> dict[str, Decimal]:
    """Per value, the sum of `column` over the run's results."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in run.results.all():
        sums[row.value] += getattr(row, column)
    return dict(sums)


def cond(field: str, op: str, *values: str, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field, "op": op, **extra}
    if values:
        node["values"] = list(values)
    return node


def regular(value: str, expression: dict[str, Any]) -> dict[str, Any]:
    return {"value": value, "expression": expression}


def use_fake_files(tmp_path: Path, monkeypatch: Any) -> FakeFiles:
    fake = FakeFiles(tmp_path)
    monkeypatch.setattr(pipeline, "open_bill", fake.open_bill)
    return fake
