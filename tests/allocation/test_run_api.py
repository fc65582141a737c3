"""The allocation run API: admins queue runs, readers see runs and exact totals per value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation.models import AllocationRun, CostCategory
from allocation.tasks import allocation_run
from portal.users.models import Role, User
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import FakeFiles, line
from tests.conftest import Api, TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")

STORAGE = regular("Storage", cond("service", "equals", "Amazon S3"))


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    fake = use_fake_files(tmp_path, monkeypatch)
    ingest(
        fake,
        [
            line(service_name="Amazon S3", billed_cost="1.0000000001", effective_cost="0.5"),
            line(service_name="Amazon S3", billed_cost="2.10", effective_cost="2"),
            line(service_name="Amazon EC2", billed_cost="3.333", effective_cost="3", list_cost="4"),
        ],
    )
    return fake


@pytest.fixture
def kind(files: FakeFiles) -> CostCategory:
    return category_with("Kind", [STORAGE])


@pytest.fixture
def admin(client_a: TenantClient, admin_a: User) -> Api:
    return Api(client_a, admin_a)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The tasks sent to the broker, instead of sending them."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(allocation_run, "apply_async", lambda **kw: calls.append(kw))
    return calls


def test_an_admin_queues_a_run_once_the_request_commits(
    admin: Api,
    kind: CostCategory,
    sent: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin.post(f"cost-categories/{kind.pk}/runs/", {"period": "2026-01"})

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["category"], body["period"], body["status"]) == (kind.pk, "2026-01", "queued")
    assert (body["step_number"], body["steps_total"]) == (1, 4)
    assert response["Location"] == f"/api/v1/allocation-runs/{body['id']}/"
    assert len(callbacks) == 1
    assert sent == [{"args": ("alpha", body["id"])}]
    assert admin.get(f"allocation-runs/{body['id']}/").json()["status"] == "queued"

    # The worker's part: the task carries out the run the answer points to.
    allocation_run.run(*sent[0]["args"])
    done = admin.get(f"allocation-runs/{body['id']}/").json()
    assert (done["status"], done["step"]) == ("succeeded", "Replacing the previous results")
    assert [row["value"] for row in done["totals"]] == ["Storage", "Unallocated"]
    listed = admin.get(f"allocation-runs/?category={kind.pk}&period=2026-01").json()["results"]
    assert [(r["category_name"], r["period"], r["status"]) for r in listed] == [
        ("Kind", "2026-01", "succeeded")
    ]


@pytest.mark.parametrize(
    ("period", "code"),
    [("2026-02", "period_not_loaded"), ("2026-13", "invalid"), ("", "invalid")],
)
def test_a_period_without_data_or_malformed_is_refused(
    admin: Api, kind: CostCategory, sent: list[dict[str, Any]], period: str, code: str
) -> None:
    response = admin.post(f"cost-categories/{kind.pk}/runs/", {"period": period})

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, "period")
    assert sent == []


@pytest.mark.parametrize("role", [Role.FINANCE, Role.RESELLER_ADMIN])
def test_readers_see_runs_and_totals_but_cannot_run(
    client_a: TenantClient, kind: CostCategory, sent: list[dict[str, Any]], role: str
) -> None:
    allocation = run(kind)
    reader = Api(client_a, make_user(role))

    assert reader.post(f"cost-categories/{kind.pk}/runs/", {"period": "2026-01"}).status_code == 403
    assert reader.get(f"allocation-runs/{allocation.pk}/").status_code == 200
    assert [r["id"] for r in reader.get("allocation-runs/").json()["results"]] == [allocation.pk]
    assert sent == []


@pytest.mark.parametrize("role", [Role.TEAM_LEAD, Role.END_CUSTOMER])
def test_other_roles_see_no_runs(client_a: TenantClient, kind: CostCategory, role: str) -> None:
    allocation = run(kind)
    other = Api(client_a, make_user(role))

    assert other.get("allocation-runs/").status_code == 403
    assert other.get(f"allocation-runs/{allocation.pk}/").status_code == 403
    assert other.get(f"allocation-runs/{allocation.pk}/explain/?value=Storage").status_code == 403
    assert other.post(f"cost-categories/{kind.pk}/runs/", {"period": "2026-01"}).status_code in (
        403,
        404,
    )


def test_a_run_shows_exact_totals_per_value_with_unallocated(
    admin: Api, kind: CostCategory
) -> None:
    allocation = run(kind)

    body = admin.get(f"allocation-runs/{allocation.pk}/").json()

    assert (body["category"], body["period"], body["version"], body["status"]) == (
        kind.pk,
        "2026-01",
        1,
        "succeeded",
    )
    assert body["unallocated_value"] == "Unallocated"
    # Every digit, without trailing zeros (the cost rollup keeps sums as trim_scale does).
    assert body["totals"] == [
        {
            "value": "Storage",
            "billed_cost": "3.1000000001",
            "effective_cost": "2.5",
            "list_cost": "3",
        },
        {"value": "Unallocated", "billed_cost": "3.333", "effective_cost": "3", "list_cost": "4"},
    ]


def test_the_fallback_value_is_listed_even_when_nothing_fell_to_it(
    admin: Api, files: FakeFiles
) -> None:
    everything = category_with(
        "All", [regular("Everything", cond("service", "present"))], default_value="Rest"
    )

    totals = admin.get(f"allocation-runs/{run(everything).pk}/").json()["totals"]

    assert [(t["value"], t["billed_cost"]) for t in totals] == [
        ("Everything", "6.4330000001"),
        ("Rest", "0"),
    ]


def test_runs_are_filtered_by_category_and_period(admin: Api, kind: CostCategory) -> None:
    other = category_with("Other", [])
    mine, theirs = run(kind), run(other)

    def ids(query: str) -> list[int]:
        return [r["id"] for r in admin.get(f"allocation-runs/{query}").json()["results"]]

    assert sorted(ids("")) == sorted([mine.pk, theirs.pk])
    assert ids(f"?category={kind.pk}") == [mine.pk]
    assert ids(f"?category={other.pk}&period=2026-01") == [theirs.pk]
    assert ids("?period=2026-02") == []
    assert admin.get("allocation-runs/?category=x").status_code == 400
    assert admin.get("allocation-runs/999999/").status_code == 404


def test_the_run_list_takes_a_constant_number_of_queries(admin: Api, files: FakeFiles) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("allocation-runs/").status_code == 200
        return len(captured)

    run(category_with("One", [STORAGE]))
    one = count()
    for name in ("Two", "Three", "Four"):
        run(category_with(name, [STORAGE]))

    assert count() == one
    assert AllocationRun.objects.count() == 4


def test_a_replaced_run_stays_listed_with_its_version_but_without_results(
    admin: Api, kind: CostCategory
) -> None:
    first = run(kind)
    second = run(kind)

    replaced = admin.get(f"allocation-runs/{first.pk}/").json()
    listed = admin.get(f"allocation-runs/?category={kind.pk}").json()["results"]

    assert (replaced["status"], replaced["version"], replaced["totals"]) == ("replaced", 1, [])
    assert {(r["id"], r["status"]) for r in listed} == {
        (first.pk, "replaced"),
        (second.pk, "succeeded"),
    }
