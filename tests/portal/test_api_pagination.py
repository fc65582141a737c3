"""Every list of the API pages with bounded `limit` and `offset` and filters one way;
unreadable values answer 400 naming the parameter, never a server error."""

from __future__ import annotations

from typing import Any

import pytest

from billing.models import Organization, OrganizationalUnit
from billing.services import team_create
from portal.users.models import User
from tests.conftest import Api, TenantClient
from tests.portal.api_routes import api_routes, concrete

BAD_PAGING = [
    ("limit", "99999999999999999999"),
    ("limit", "-1"),
    ("limit", "0"),
    ("limit", "1001"),
    ("limit", "ten"),
    ("limit", "\u0661\u0660"),  # Arabic-Indic digits: digits, but not ASCII ones
    ("offset", "-1"),
    ("offset", "99999999999999999999"),
    ("offset", "x%00"),
]


@pytest.fixture
def admin(client_a: TenantClient, admin_a: User) -> Api:
    return Api(client_a, admin_a)


def list_routes() -> list[Any]:
    routes = [route for route in api_routes() if route.is_list]
    assert len(routes) >= 15, [route.path for route in routes]
    return routes


@pytest.mark.parametrize(("name", "value"), BAD_PAGING)
def test_every_list_refuses_paging_it_cannot_serve(admin: Api, name: str, value: str) -> None:
    for route in list_routes():
        response = admin.client.get(
            f"{concrete(route.path)}?{name}={value}", HTTP_AUTHORIZATION=admin.auth
        )
        assert response.status_code == 400, (route.path, response.content)
        body = response.json()
        assert (body["code"], body["field"]) == (f"invalid_{name}", name), route.path
        assert name in body["message"]
        response = admin.client.get(
            f"{concrete(route.path)}?limit=1000&offset=5", HTTP_AUTHORIZATION=admin.auth
        )
        assert response.status_code == 200, (route.path, response.content)
        assert set(response.json()) == {"count", "next", "previous", "results"}, route.path


def test_a_list_pages_by_limit_and_offset(admin: Api, admin_a: User) -> None:
    for name in ("Data", "Platform", "Web"):
        team_create(actor=admin_a, name=name)
    first = admin.get("teams/", {"limit": "2"}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert "offset=2" in first["next"]
    rest = admin.get("teams/", {"limit": "2", "offset": "2"}).json()
    names = [t["name"] for t in first["results"] + rest["results"]]
    assert sorted(names) == ["Data", "Platform", "Web"]
    assert len(admin.get("teams/").json()["results"]) == 3  # no limit: the default page
    assert admin.get("teams/", {"limit": "1001"}).status_code == 400  # not quietly 1000


def test_every_declared_filter_refuses_an_unreadable_value(admin: Api) -> None:
    tried = 0
    for route in list_routes():
        for query_filter in getattr(route.view, "query_filters", ()):
            for value in ("%00", "x" * 300):
                response = admin.client.get(
                    f"{concrete(route.path)}?{query_filter.name}={value}",
                    HTTP_AUTHORIZATION=admin.auth,
                )
                assert response.status_code == 400, (route.path, value, response.content)
                assert response.json()["field"] == query_filter.name
                tried += 1
    assert tried >= 2 * 12


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("ous/", "organization=abc", "organization"),
        ("ous/", "parent=" + "9" * 30, "parent"),
        ("accounts/", "ou=1.5", "ou"),
        ("audit/", "actor=me", "actor"),
        ("allocation-runs/", "period=0001-01", "period"),
        ("invoices/", "unit=" + "9" * 30, "unit"),
        ("invoice-runs/", "period=0001-01", "period"),
    ],
)
def test_a_bad_filter_value_is_refused_not_ignored(
    admin: Api, path: str, query: str, field: str
) -> None:
    response = admin.get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["field"]) == (f"invalid_{field}", field)


def test_filters_still_narrow_a_list(admin: Api, admin_a: User) -> None:
    acme = Organization.objects.create(name="Acme")
    other = Organization.objects.create(name="Other")
    OrganizationalUnit.objects.create(organization=acme, name="Root")
    OrganizationalUnit.objects.create(organization=other, name="Elsewhere")
    team_create(actor=admin_a, name="Web")
    names = [ou["name"] for ou in admin.get("ous/", {"organization": acme.pk}).json()["results"]]
    assert names == ["Root"]
    assert admin.get("ous/", {"organization": "Acme"}).status_code == 400  # not every unit
    entries = admin.get("audit/", {"actor": admin_a.pk, "limit": "5"}).json()["results"]
    assert entries and all(entry["actor"] == admin_a.pk for entry in entries)
