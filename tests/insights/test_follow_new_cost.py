"""The anomaly monitor, the forecasts and the budget check follow new cost: an ingest
queues them for its tenant, and so does an allocation run of a recent month."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from insights import receivers, tasks
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    calls: list[tuple[str, tuple[Any, ...]]] = []
    for task in (tasks.detect_anomalies_task, tasks.compute_forecasts, tasks.check_budgets):
        monkeypatch.setattr(task, "delay", lambda *a, _n=task.name: calls.append((_n, a)))
    return calls


def test_an_ingest_queues_the_monitor_forecasts_and_budget_check(
    tenant_a: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    queued: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(files, [line(billed_cost="4.00")])
    assert sorted(queued) == [
        ("insights.tasks.check_budgets", ("alpha",)),
        ("insights.tasks.compute_forecasts", ("alpha",)),
        ("insights.tasks.detect_anomalies", ("alpha",)),
    ]


def test_only_a_recent_months_allocation_queues_them(
    tenant_a: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    queued: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, [line(billed_cost="4.00")])
    rule = regular("Web", cond("service", "equals", "Amazon S3"))
    category = category_with("Team", [rule])
    monkeypatch.setattr(receivers.timezone, "localdate", lambda: date(2026, 6, 15))
    with django_capture_on_commit_callbacks(execute=True):
        run(category)  # January: long past
    assert queued == []
    monkeypatch.setattr(receivers.timezone, "localdate", lambda: date(2026, 2, 10))
    with django_capture_on_commit_callbacks(execute=True):
        run(category)  # January, the month before this one
    assert len(queued) == 3
