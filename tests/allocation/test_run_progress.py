"""A running allocation shows its step to others, who keep the previous results until it ends.

The run is carried out in a thread, on its own connection, against a tenant whose costs,
category and earlier run are committed (a schema of its own, dropped after the module),
as a worker would carry it out while people look at the run page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from allocation.engine import run as engine
from allocation.models import AllocationResult, AllocationRun, RunStatus, RunStep
from allocation.services import allocation_run_request
from portal.core.connections import side_connection
from tests.allocation.run_helpers import JAN, committed_month_and_kind, run
from tests.committed import on_own_connection

SCHEMA = "allocation_progress_t"


@pytest.fixture(scope="module")
def first_run(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AllocationRun]:
    """A committed month of costs and a first, committed run of the "Kind" category."""
    with committed_month_and_kind(django_db_blocker, SCHEMA, tmp_path_factory) as kind:
        yield run(kind)


def _seen_from_outside(run_id: int, previous_id: int) -> tuple[str, int, int]:
    """The run's status and step, and the previous run's result rows, as others see them."""
    with side_connection(SCHEMA) as side:
        run_row = side.execute(
            "SELECT status, step FROM allocation_allocationrun WHERE id = %s", [run_id]
        ).fetchone()
        count_row = side.execute(
            "SELECT count(*) FROM allocation_allocationresult WHERE run_id = %s", [previous_id]
        ).fetchone()
    assert run_row is not None and count_row is not None
    (status, step), (rows,) = run_row, count_row
    return status, step, rows


def test_others_see_the_step_under_way_and_the_old_results_until_the_run_ends(
    first_run: AllocationRun, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = on_own_connection(
        SCHEMA,
        lambda: allocation_run_request(
            actor=None, category=first_run.category, period=JAN, enqueue=False
        ),
        seconds=120,
    )
    assert _seen_from_outside(queued.pk, first_run.pk)[:2] == (RunStatus.QUEUED, RunStep.WAITING)
    seen: list[tuple[str, int, int]] = []
    write_results = engine.write_results

    def watched(*args: Any) -> list[str]:
        seen.append(_seen_from_outside(queued.pk, first_run.pk))
        return write_results(*args)

    monkeypatch.setattr(engine, "write_results", watched)

    on_own_connection(
        SCHEMA, lambda: engine.allocation_run_execute(actor=None, run=queued), seconds=120
    )

    previous_rows = 2  # S3 and the Unallocated rest, one day and service each
    assert seen == [(RunStatus.RUNNING, RunStep.SPLITTING, previous_rows)]
    status, step, left = _seen_from_outside(queued.pk, first_run.pk)
    assert (status, step, left) == (RunStatus.SUCCEEDED, RunStep.REPLACING, 0)
    with schema_context(SCHEMA):
        assert AllocationRun.objects.get(pk=first_run.pk).status == RunStatus.REPLACED
        assert AllocationResult.objects.filter(run_id=queued.pk).count() == previous_rows
