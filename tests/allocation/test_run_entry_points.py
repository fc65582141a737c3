"""The Celery task and the `allocate` command run allocations in a tenant's schema."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from allocation.engine.order import categories_in_dependency_order
from allocation.engine.run import allocation_run_execute
from allocation.models import AllocationRun
from allocation.services import allocation_run_request
from allocation.tasks import allocation_run
from tests.allocation.run_helpers import (
    JAN,
    category_with,
    cond,
    ingest,
    regular,
    totals,
    use_fake_files,
)
from tests.billing.ingest_fakes import FakeFiles, line

pytestmark = pytest.mark.usefixtures("tenant_a")


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    fake = use_fake_files(tmp_path, monkeypatch)
    ingest(
        fake,
        [
            line(service_name="Amazon S3", billed_cost="1.50", effective_cost="1.25"),
            line(service_name="Amazon EC2", billed_cost="2", effective_cost="2"),
        ],
    )
    return fake


def two_categories() -> None:
    category_with("Kind", [regular("Storage", cond("service", "equals", "Amazon S3"))])
    category_with(
        "Area", [regular("Disks", cond("category", "equals", "Storage", category="Kind"))]
    )


def test_categories_are_run_after_those_they_read(files: FakeFiles) -> None:
    two_categories()
    category_with("Zone", [])

    assert [c.name for c in categories_in_dependency_order(JAN)] == ["Kind", "Area", "Zone"]


def test_the_task_allocates_in_the_tenants_schema(files: FakeFiles) -> None:
    category = category_with("Solo", [regular("S3", cond("service", "contains", "S3"))])
    queued = allocation_run_request(actor=None, category=category, period=JAN, enqueue=False)

    run_id = allocation_run.run("alpha", queued.pk)

    assert run_id == queued.pk and allocation_run.name == "allocation.tasks.allocation_run"
    assert totals(AllocationRun.objects.get(pk=run_id)) == {"S3": Decimal("1.50"), "Unallocated": 2}


def test_a_redelivered_task_leaves_a_finished_run_alone(files: FakeFiles) -> None:
    category = category_with("Solo", [regular("S3", cond("service", "contains", "S3"))])
    queued = allocation_run_request(actor=None, category=category, period=JAN, enqueue=False)
    allocation_run.run("alpha", queued.pk)
    finished = AllocationRun.objects.get(pk=queued.pk).finished_at

    assert allocation_run.run("alpha", queued.pk) == queued.pk

    assert AllocationRun.objects.get(pk=queued.pk).finished_at == finished
    assert totals(AllocationRun.objects.get(pk=queued.pk)) == {
        "S3": Decimal("1.50"),
        "Unallocated": 2,
    }


def test_a_task_whose_run_was_replaced_meanwhile_does_nothing(files: FakeFiles) -> None:
    category = category_with("Solo", [])
    queued = allocation_run_request(actor=None, category=category, period=JAN, enqueue=False)
    AllocationRun.objects.filter(pk=queued.pk).delete()

    assert allocation_run.run("alpha", queued.pk) is None
    assert not AllocationRun.objects.exists()


def test_the_command_runs_every_category_and_prints_totals(files: FakeFiles) -> None:
    two_categories()
    out = io.StringIO()

    call_command("allocate", tenant="alpha", period="2026-01", stdout=out)

    text = out.getvalue()
    assert text.index("Kind 2026-01") < text.index("Area 2026-01")
    assert "Unallocated (Unallocated): billed 2, effective 2" in text
    assert AllocationRun.objects.count() == 2


def test_the_command_runs_one_category_by_name(files: FakeFiles) -> None:
    two_categories()
    out = io.StringIO()

    call_command("allocate", tenant="alpha", period="2026-01", category="Area", stdout=out)

    assert "Disks" in out.getvalue()
    assert list(AllocationRun.objects.values_list("category__name", flat=True)) == ["Area"]
    with pytest.raises(CommandError, match="No cost category"):
        call_command("allocate", tenant="alpha", period="2026-01", category="Nope")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("allocate", tenant="alpha", period="January")


def test_a_late_delivery_holding_the_run_as_queued_neither_reruns_nor_reopens_it(
    files: FakeFiles,
) -> None:
    category = category_with("Solo", [regular("S3", cond("service", "contains", "S3"))])
    queued = allocation_run_request(actor=None, category=category, period=JAN, enqueue=False)
    late = AllocationRun.objects.get(pk=queued.pk)  # read before the first delivery ran
    allocation_run.run("alpha", queued.pk)
    done = AllocationRun.objects.get(pk=queued.pk)

    answer = allocation_run_execute(actor=None, run=late)

    assert (answer.status, answer.finished_at) == ("succeeded", done.finished_at)
    assert AllocationRun.objects.get(pk=queued.pk).finished_at == done.finished_at
    assert totals(done) == {"S3": Decimal("1.50"), "Unallocated": 2}
