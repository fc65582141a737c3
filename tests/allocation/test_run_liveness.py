"""An allocation whose process is gone never stays `running`: it is failed, the previous
results stay in force, and the month can be allocated again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus
from allocation.services import allocation_run_request
from allocation.tasks import fail_stopped_allocation_runs
from portal.audit.models import AuditEntry
from portal.core.connections import claimed, side_connection
from tests.allocation.run_helpers import JAN, committed_month_and_kind, run
from tests.committed import admin_api_get, on_own_connection, tenant_host
from tests.conftest import PASSWORD, TenantClient
from tests.processes import (
    claim_released,
    kill_outright,
    side_database,
    start_command,
    statement_waits_for_lock,
    stop,
    wait_for,
)

SCHEMA = "allocation_liveness_t"
STOPPED = "The process running it stopped before it finished"


@pytest.fixture(scope="module")
def committed(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A committed month of costs and a "Kind" category, which other processes see."""
    with committed_month_and_kind(django_db_blocker, SCHEMA, tmp_path_factory):
        yield


@pytest.fixture
def kind(committed: None, db: Any) -> CostCategory:
    connection.set_schema(SCHEMA)  # type: ignore[attr-defined]
    return CostCategory.objects.get(name="Kind")


def _in_force(category: CostCategory) -> AllocationRun:
    """A committed run of the category whose results are in force."""
    done = on_own_connection(SCHEMA, lambda: run(category))
    assert done.status == RunStatus.SUCCEEDED, done.notes
    return done


def _left_running(category: CostCategory) -> AllocationRun:
    """A run as a killed process leaves it: running, with no process behind it."""

    def make() -> AllocationRun:
        queued = allocation_run_request(actor=None, category=category, period=JAN, enqueue=False)
        AllocationRun.objects.filter(pk=queued.pk).update(status=RunStatus.RUNNING)
        return queued

    return on_own_connection(SCHEMA, make)


def test_a_running_run_without_a_process_is_failed_when_runs_are_listed(
    kind: CostCategory,
) -> None:
    previous = _in_force(kind)
    left = _left_running(kind)

    listed = admin_api_get(SCHEMA, f"/api/v1/allocation-runs/?category={kind.pk}")

    shown = {row["id"]: row for row in listed["results"]}
    assert shown[left.pk]["status"] == "failed"
    assert shown[left.pk]["finished_at"] is not None
    assert shown[previous.pk]["status"] == "succeeded"
    detail = admin_api_get(SCHEMA, f"/api/v1/allocation-runs/{left.pk}/")
    assert detail["notes"][0].startswith(STOPPED)
    assert "previous results stay in force" in detail["notes"][0]
    assert AuditEntry.objects.filter(
        action="allocationrun.stopped", object_id=str(left.pk)
    ).exists()
    assert AllocationResult.objects.filter(run_id=previous.pk).exists()


def test_the_run_page_shows_it_failed_too(kind: CostCategory) -> None:
    left = _left_running(kind)
    client = TenantClient(tenant_host(SCHEMA))
    assert client.login(username="admin", password=PASSWORD)

    page = client.get(f"/allocation/runs/{left.pk}/").content.decode()

    assert STOPPED in page
    assert AllocationRun.objects.get(pk=left.pk).status == RunStatus.FAILED


def test_a_running_run_whose_process_lives_stays_running(kind: CostCategory) -> None:
    left = _left_running(kind)
    # Another session holds the run's claim, as the process carrying it out does.
    with side_connection(SCHEMA) as other, claimed("allocation", left.pk, on=other) as held:
        assert held
        assert admin_api_get(SCHEMA, f"/api/v1/allocation-runs/{left.pk}/")["status"] == "running"
    # Its process gone, the next look marks it failed.
    assert admin_api_get(SCHEMA, f"/api/v1/allocation-runs/{left.pk}/")["status"] == "failed"


def test_a_worker_that_starts_fails_the_runs_left_running(kind: CostCategory) -> None:
    left = _left_running(kind)

    on_own_connection(SCHEMA, lambda: fail_stopped_allocation_runs(sender=None))

    left.refresh_from_db()
    assert left.status == RunStatus.FAILED
    assert left.notes[0].startswith(STOPPED)


def test_an_inline_allocation_killed_mid_way_is_failed_and_the_month_allocates_again(
    kind: CostCategory, tmp_path: Path
) -> None:
    previous = _in_force(kind)
    command = ["allocate", "--tenant", SCHEMA, "--period", "2026-01", "--category", "Kind"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with side_database() as locker:
        # Given an inline allocation that waits for the category (as behind another run);
        # NO KEY UPDATE still lets it record its run, which refers to the category.
        with locker.transaction():
            locker.execute(
                f'SELECT id FROM "{SCHEMA}".allocation_costcategory WHERE id = %s '
                "FOR NO KEY UPDATE",
                [kind.pk],
            )
            first = start_command(command, first_log)
            try:
                wait_for(
                    "the allocation to wait for its category",
                    lambda: statement_waits_for_lock("%allocation_costcategory%FOR UPDATE%"),
                    seconds=25,
                    log=first_log,
                )
                killed = AllocationRun.objects.order_by("-pk").first()
                assert killed is not None and killed.pk != previous.pk
                assert killed.status == RunStatus.RUNNING
                assert not claim_released(killed.pk)
                # When its process is killed outright
                kill_outright(first)
            finally:
                stop(first)
        wait_for("its session to end", lambda: claim_released(killed.pk), seconds=15, log=first_log)
        killed.refresh_from_db()
        assert killed.status == RunStatus.RUNNING

    # Then the next allocation of the month marks it failed and replaces the previous run
    second = start_command(command, second_log)
    try:
        assert second.wait(timeout=25) == 0, second_log.read_text()
    finally:
        stop(second)
    assert "Kind 2026-01 (v1): succeeded" in second_log.read_text()
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert killed.notes[0].startswith(STOPPED)
    previous.refresh_from_db()
    assert previous.status == RunStatus.REPLACED
    latest = AllocationRun.objects.order_by("-pk").first()
    assert latest is not None and latest.status == RunStatus.SUCCEEDED
    assert AllocationResult.objects.filter(run_id=latest.pk).count() == 2
