"""Putting line items in through the real ingest and reading an allocation run's totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationRun, CostCategory
from allocation.services import cost_category_create, ruleset_create
from billing.ingest import pipeline
from billing.models import IngestStatus
from billing.services.ingests import ingest_job_create
from tests.billing.ingest_fakes import FakeFiles, batch, line
from tests.committed import committed_tenant

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


@contextmanager
def committed_tenant_with_bills(
    django_db_blocker: Any, schema: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeFiles]:
    """A committed tenant (`tests.committed`) whose ingests read the bills put in the files."""
    with (
        committed_tenant(django_db_blocker, schema),
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        yield use_fake_files(tmp_path_factory.mktemp("bills"), monkeypatch)


@contextmanager
def committed_month_and_kind(
    django_db_blocker: Any, schema: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CostCategory]:
    """A committed tenant with a month of costs (S3 1.50, EC2 2) and its "Kind" category,
    whose one rule picks S3."""
    with committed_tenant_with_bills(django_db_blocker, schema, tmp_path_factory) as files:
        ingest(
            files,
            [
                line(service_name="Amazon S3", billed_cost="1.50"),
                line(service_name="Amazon EC2", billed_cost="2"),
            ],
        )
        yield category_with("Kind", [regular("S3", cond("service", "equals", "Amazon S3"))])
