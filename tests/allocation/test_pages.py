"""The allocation pages: readers see categories, results and explanations; admins run."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation.models import AllocationRun, CostCategory
from allocation.tasks import allocation_run
from billing.models import CostLineItem, TagKey
from portal.users.models import Role
from tests.allocation.run_helpers import (
    JAN,
    category_with,
    cond,
    ingest,
    regular,
    run,
    use_fake_files,
)
from tests.billing.ingest_fakes import FakeFiles, line
from tests.conftest import TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")

SPLITS = [{"source": "Shared", "method": "even", "targets": [{"value": "Web"}, {"value": "Data"}]}]


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CostCategory:
    fake: FakeFiles = use_fake_files(tmp_path, monkeypatch)
    ingest(
        fake,
        [
            line(service_name="Amazon S3", billed_cost="1.0000000001"),
            line(service_name="AWS Support", billed_cost="3.01"),
            line(service_name="Amazon EC2", billed_cost="2"),
        ],
    )
    rules = [
        regular("Web", cond("service", "equals", "Amazon S3")),
        regular("Shared", cond("service", "contains", "support", case_sensitive=False)),
    ]
    return category_with("Team", rules, splits=SPLITS)


def client_as(client: TenantClient, role: str) -> TenantClient:
    client.force_login(make_user(role))
    return client


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE])
def test_readers_see_categories_results_and_explanations(
    client_a: TenantClient, team: CostCategory, role: str
) -> None:
    allocation = run(team)
    client = client_as(client_a, role)

    listed = client.get("/allocation/").content.decode()
    assert "Team" in listed and "service is &quot;Amazon S3&quot;" in listed
    assert "service contains &quot;support&quot; (any case)" in listed
    assert "Web, Data evenly" in listed

    page = client.get(f"/allocation/categories/{team.pk}/").content.decode()
    assert '<td class="num" title="2.5100000001">2.51</td>' in page  # Web: 1.0000000001 + 1.51
    assert "Unallocated" in page
    assert f"/allocation/runs/{allocation.pk}/explain/?value=Web" in page
    assert ("Run allocation</button>" in page) == (role == Role.ADMIN)

    explained = client.get(f"/allocation/runs/{allocation.pk}/explain/?value=Web")
    assert explained.status_code == 200
    text = explained.content.decode()
    assert "Rule 1: Web" in text and '<td class="num" title="1.51">1.51</td>' in text

    shared = CostLineItem.objects.get(billing_period_start=JAN, service_name="AWS Support")
    item = client.get(
        f"/allocation/runs/{allocation.pk}/explain/?value=Web&line_item={shared.id}"
    ).content.decode()
    assert "Rule 2: Shared" in item and "split 1 (even) shares the cost of Shared" in item


@pytest.mark.parametrize("role", [Role.TEAM_LEAD, Role.END_CUSTOMER])
def test_other_roles_are_refused(client_a: TenantClient, team: CostCategory, role: str) -> None:
    allocation = run(team)
    client = client_as(client_a, role)

    for path in (
        "/allocation/",
        f"/allocation/categories/{team.pk}/",
        f"/allocation/runs/{allocation.pk}/",
        f"/allocation/runs/{allocation.pk}/explain/?value=Web",
    ):
        assert client.get(path).status_code == 403, path
    assert "/allocation/" not in client.get("/").content.decode()


def test_an_admin_runs_an_allocation_from_the_page(
    client_a: TenantClient,
    team: CostCategory,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(allocation_run, "apply_async", lambda **kw: sent.append(kw))
    client = client_as(client_a, Role.ADMIN)
    assert (
        '<option value="2026-01-01">2026-01</option>'
        in client.get(f"/allocation/categories/{team.pk}/").content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/allocation/categories/{team.pk}/run/", {"period": "2026-01-01"})

    queued = AllocationRun.objects.get(category=team)
    assert response.status_code == 302
    assert response["Location"] == f"/allocation/runs/{queued.pk}/"
    assert [call["args"] for call in sent] == [("alpha", queued.pk)]
    page = client.get(response["Location"]).content.decode()
    assert "is queued" in page and "Waiting for a worker" in page
    assert 'http-equiv="refresh"' in page

    allocation_run.run(*sent[0]["args"])

    page = client.get(response["Location"]).content.decode()
    assert "Succeeded" in page and 'http-equiv="refresh"' not in page
    category_page = client.get(f"/allocation/categories/{team.pk}/").content.decode()
    assert "Latest results: 2026-01" in category_page


def test_finance_cannot_run_an_allocation(client_a: TenantClient, team: CostCategory) -> None:
    client = client_as(client_a, Role.FINANCE)

    response = client.post(f"/allocation/categories/{team.pk}/run/", {"period": "2026-01-01"})

    assert response.status_code == 403
    assert AllocationRun.objects.count() == 0


def test_the_category_list_takes_a_constant_number_of_queries(
    client_a: TenantClient, team: CostCategory
) -> None:
    client = client_as(client_a, Role.FINANCE)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/allocation/").status_code == 200
        return len(captured)

    one = count()
    for name in ("Two", "Three"):
        category_with(name, [regular(name, cond("region", "equals", "us-east-1"))], splits=SPLITS)

    assert count() == one


def test_an_admin_builds_a_category_and_its_rules_in_the_pages(
    admin_client_a: TenantClient,
) -> None:
    response = admin_client_a.post("/allocation/categories/new/", {"name": "Team"})
    assert response.status_code == 302, response.content
    category = CostCategory.objects.get(name="Team")
    form = admin_client_a.get(f"/allocation/categories/{category.pk}/versions/new/")
    assert form.status_code == 200 and b"first match wins" in form.content
    rules = [
        {
            "kind": "regular",
            "value": "Platform",
            "expression": {
                "all": [{"field": "service", "op": "starts_with", "values": ["Amazon"]}]
            },
        },
        {"kind": "inherited", "inherit_from": "tag:team"},
    ]
    bad = [
        {
            "kind": "regular",
            "value": "Web",
            "expression": {"field": "servce", "op": "equals", "values": ["x"]},
        }
    ]
    refused = admin_client_a.post(
        f"/allocation/categories/{category.pk}/versions/new/",
        {"effective_month": "2026-01", "rules": json.dumps(bad), "splits": "[]"},
    )
    assert refused.status_code == 200
    assert "rule 1 (&quot;Web&quot;)" in refused.content.decode()
    assert "servce" in refused.content.decode()
    saved = admin_client_a.post(
        f"/allocation/categories/{category.pk}/versions/new/",
        {"effective_month": "2026-01", "rules": json.dumps(rules), "splits": "[]"},
    )
    assert saved.status_code == 302, saved.content
    version = category.version_for(date(2026, 3, 1))
    assert version is not None and version.rules.count() == 2
    again = admin_client_a.get(f"/allocation/categories/{category.pk}/versions/new/")
    assert "tag:team" in again.content.decode()  # the form starts from the version in force


def test_finance_cannot_open_the_rule_forms(client_a: TenantClient) -> None:
    client_a.force_login(make_user(Role.FINANCE, "fin-forms"))
    assert client_a.get("/allocation/categories/new/").status_code == 403


def test_preview_on_the_rules_page_shows_changes_and_saves_nothing(
    client_a: TenantClient, team: CostCategory
) -> None:
    client = client_as(client_a, Role.ADMIN)
    client.post(f"/allocation/categories/{team.pk}/run/", {"period": "2026-01-01"})
    run(team)
    versions = team.versions.count()
    everything_web = [regular("Web", cond("service", "starts_with", "A"))]
    response = client.post(
        f"/allocation/categories/{team.pk}/versions/new/",
        {
            "effective_month": "2026-01",
            "preview_period": "2026-01",
            "rules": json.dumps(everything_web),
            "splits": "[]",
            "preview": "1",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview for 2026-01" in page
    assert "6.01" in page  # all three line items would go to Web
    assert team.versions.count() == versions


def _textarea(page: str, name: str) -> Any:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, name
    return json.loads(html.unescape(found.group(1)))


def _json_script(page: str, element_id: str) -> Any:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page)
    assert found, element_id
    return json.loads(found.group(1))


def test_the_rules_page_loads_the_builder_over_the_version_in_force(
    client_a: TenantClient, team: CostCategory
) -> None:
    TagKey.objects.create(name="team")
    category_with("Environment", [regular("prod", cond("account", "present"))])
    client = client_as(client_a, Role.ADMIN)
    path = f"/allocation/categories/{team.pk}/versions/new/"

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200
        return response.content.decode(), len(captured)

    text, queries = page()
    assert '<script type="module" src="/static/allocation/rule_builder.js"></script>' in text
    assert "data-rule-builder" in text
    assert _textarea(text, "rules") == [
        {
            "kind": "regular",
            "value": "Web",
            "expression": {
                "field": "service",
                "op": "equals",
                "values": ["Amazon S3"],
                "case_sensitive": True,
            },
        },
        {
            "kind": "regular",
            "value": "Shared",
            "expression": {
                "field": "service",
                "op": "contains",
                "values": ["support"],
                "case_sensitive": False,
            },
        },
    ]
    assert _textarea(text, "splits") == SPLITS
    names = _json_script(text, "rule-builder-names")
    assert names == {"tag_keys": ["team"], "categories": ["Environment"]}

    TagKey.objects.create(name="owner")
    category_with("Region", [regular("eu", cond("region", "starts_with", "eu-"))])
    text, more_queries = page()
    assert _json_script(text, "rule-builder-names")["tag_keys"] == ["owner", "team"]
    assert more_queries == queries


def test_rules_as_the_builder_writes_them_are_saved(admin_client_a: TenantClient) -> None:
    category_with("Environment", [regular("prod", cond("account", "present"))])
    category = category_with("Team", [regular("Web", cond("service", "present"))])
    rules = [
        {
            "kind": "regular",
            "value": "Platform",
            "expression": {
                "any": [
                    {
                        "all": [
                            {
                                "field": "tag",
                                "key": "team",
                                "op": "one_of",
                                "values": ["platform", "infra"],
                                "case_sensitive": False,
                            },
                            {"not": {"field": "region", "op": "absent"}},
                        ]
                    },
                    {
                        "field": "category",
                        "category": "Environment",
                        "op": "equals",
                        "values": ["prod"],
                    },
                ]
            },
        },
        {"kind": "inherited", "inherit_from": "account_name"},
    ]
    splits = [
        {
            "source": "Platform",
            "method": "fixed",
            "targets": [{"value": "Web", "percent": "62.5"}, {"value": "Data", "percent": "37.5"}],
        }
    ]

    saved = admin_client_a.post(
        f"/allocation/categories/{category.pk}/versions/new/",
        {
            "effective_month": "2026-02",
            "rules": json.dumps(rules, indent=2),
            "splits": json.dumps(splits, indent=2),
        },
    )

    assert saved.status_code == 302, saved.content
    version = category.version_for(date(2026, 2, 1))
    assert version is not None and version.number == 2
    stored = version.rules.get(position=1).expression
    assert stored is not None and stored["any"][0]["all"][1] == {
        "not": {"field": "region", "op": "absent", "case_sensitive": True}
    }
    assert version.splits.get().targets[0] == {"value": "Web", "percent": "62.5"}
