"""An end customer's logins in the API: /api/v1/end-customers/<id>/users/ lists, creates
(with a password or invited), links and removes them; refusals name the field; roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billing.models import EndCustomer
from portal.users.models import Role, User
from tests.billing.customer_world import GOOD_PASSWORD, initech, world
from tests.conftest import TenantClient, make_user
from tests.insights.world import World

__all__ = ["initech", "world"]  # the fixtures, used by name


@pytest.fixture
def as_user(client_a: TenantClient) -> Callable[[User], TenantClient]:
    def login(user: User) -> TenantClient:
        client = TenantClient(client_a.host)
        client.force_login(user)
        return client

    return login


@pytest.fixture
def reseller_client(world: World, as_user: Any) -> TenantClient:
    return as_user(make_user(Role.RESELLER_ADMIN, "rita-reseller"))


def api(client: TenantClient, method: str, path: str, data: Any = None) -> Any:
    call = getattr(client, method)
    if data is None:
        return call(f"/api/v1/{path}")
    return call(f"/api/v1/{path}", data, content_type="application/json")


def test_the_api_creates_lists_links_and_removes_logins(
    initech: EndCustomer, reseller_client: TenantClient
) -> None:
    client = reseller_client
    users = f"end-customers/{initech.pk}/users/"

    with_password = api(
        client, "post", users, {"username": "ian", "password": GOOD_PASSWORD, "email": ""}
    )
    invited = api(client, "post", users, {"username": "ina", "email": "ina@initech.example"})
    free = make_user(Role.END_CUSTOMER, "fred")
    linked = api(client, "post", users, {"user": free.pk})

    assert with_password.status_code == 201, with_password.content
    assert with_password.json()["invitation_url"] is None
    assert invited.status_code == 201
    assert "/org/end-customers/set-password/" in invited.json()["invitation_url"]
    assert linked.status_code == 201 and linked.json()["username"] == "fred"
    listed = api(client, "get", users).json()
    assert [row["username"] for row in listed] == ["fred", "ian", "ina"]
    assert set(listed[0]) == {
        "id", "username", "email", "first_name", "last_name", "is_active", "last_login",
    }  # fmt: skip

    ian = User.objects.get(username="ian")
    assert api(client, "delete", f"{users}{ian.pk}/").status_code == 204
    ian.refresh_from_db()
    assert not ian.is_active
    again = api(client, "delete", f"{users}{ian.pk}/")
    assert again.status_code == 400 and again.json()["code"] == "not_customer_login"


def test_the_api_refuses_with_the_field_at_fault(
    world: World, initech: EndCustomer, reseller_client: TenantClient
) -> None:
    client = reseller_client
    users = f"end-customers/{initech.pk}/users/"

    other = api(client, "post", users, {"user": world.customer.pk})
    assert other.status_code == 400
    assert (other.json()["code"], other.json()["field"]) == ("other_customer", "user")
    assert "Globex" in other.json()["message"]
    neither = api(client, "post", users, {"email": "a@b.example"})
    assert neither.status_code == 400 and neither.json()["field"] == "username"
    both = api(client, "post", users, {"user": world.customer.pk, "username": "x"})
    assert both.status_code == 400
    weak = api(client, "post", users, {"username": "weak", "password": "short"})
    assert (weak.status_code, weak.json()["field"]) == (400, "password")
    bad_name = api(client, "post", users, {"username": "no spaces allowed"})
    assert (bad_name.status_code, bad_name.json()["field"]) == (400, "username")
    assert not User.objects.filter(username__in=["weak", "no spaces allowed"]).exists()
    assert api(client, "get", "end-customers/999999/users/").status_code == 404
    assert api(client, "delete", f"{users}999999/").status_code == 404


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        (Role.ADMIN, 200, 201),
        (Role.RESELLER_ADMIN, 200, 201),
        (Role.FINANCE, 200, 403),
        (Role.TEAM_LEAD, 403, 403),
        (Role.END_CUSTOMER, 403, 403),
    ],
)
def test_the_api_by_role(world: World, as_user: Any, role: str, read: int, write: int) -> None:
    client = as_user(make_user(role, f"who-{role}"))
    users = f"end-customers/{world.globex.pk}/users/"

    assert api(client, "get", users).status_code == read
    assert api(client, "post", users, {"username": f"new-{role}"}).status_code == write
    remove = api(client, "delete", f"{users}{world.customer.pk}/").status_code
    assert remove == (204 if write == 201 else 403)
