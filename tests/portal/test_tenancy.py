"""Tenants are isolated by host name and schema; logins and tokens never cross them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from portal.tenants.models import Domain, Tenant
from portal.users.models import Role, User
from tests.conftest import PASSWORD, TenantClient, api_token, make_user


def test_unknown_host_gets_404_and_no_portal(db: Any) -> None:
    response = TenantClient("nobody.test.localhost").get("/login/")
    assert response.status_code == 404
    assert b"No portal is served at nobody.test.localhost" in response.content


def test_token_from_tenant_a_is_rejected_on_tenant_b(client_a: TenantClient, admin_a: User) -> None:
    token = api_token(client_a, admin_a.username)
    ok = client_a.get("/api/v1/users/", HTTP_AUTHORIZATION=f"Token {token}")
    assert ok.status_code == 200
    other = TenantClient("beta.test.localhost")
    response = other.get("/api/v1/users/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401
    assert "alice-admin" not in response.content.decode()


def test_session_of_tenant_a_does_not_log_in_on_tenant_b(admin_client_a: TenantClient) -> None:
    assert admin_client_a.get("/").status_code == 200
    session_cookie = admin_client_a.cookies["sessionid"].value
    other = TenantClient("beta.test.localhost")
    other.cookies["sessionid"] = session_cookie
    response = other.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_same_username_in_two_tenants_are_two_people(tenant_a: Tenant) -> None:
    make_user(Role.FINANCE, "sam")
    with schema_context("beta"):
        make_user(Role.ADMIN, "sam")
        assert User.objects.get(username="sam").role == Role.ADMIN
    assert User.objects.get(username="sam").role == Role.FINANCE


def test_wrong_password_is_refused_and_repeated_failures_lock_the_user(
    client_a: TenantClient, admin_a: User
) -> None:
    for _ in range(5):
        response = client_a.post(
            "/api/v1/auth/token/",
            {"username": admin_a.username, "password": "nope"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json()["code"] == "login_failed"
    response = client_a.post(
        "/api/v1/auth/token/",
        {"username": admin_a.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "login_throttled"
    page = client_a.post("/login/", {"username": admin_a.username, "password": PASSWORD})
    assert b"Too many failed logins" in page.content


def test_login_page_logs_in_and_shows_the_dashboard(client_a: TenantClient, admin_a: User) -> None:
    response = client_a.post("/login/", {"username": admin_a.username, "password": PASSWORD})
    assert response.status_code == 302
    page = client_a.get("/")
    assert page.status_code == 200
    assert b"Alpha" in page.content


def test_create_tenant_command_makes_a_working_tenant(db: Any) -> None:
    call_command(
        "create_tenant",
        "--schema",
        "gamma",
        "--name",
        "Gamma Ltd",
        "--domain",
        "gamma.test.localhost",
        "--admin-email",
        "ops@gamma.example",
        "--admin-password",
        PASSWORD,
    )
    assert Domain.objects.get(domain="gamma.test.localhost").tenant.name == "Gamma Ltd"
    client = TenantClient("gamma.test.localhost")
    assert api_token(client, "admin")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schema", "public"], "Schema name 'public'"),
        (["--schema", "Bad-Name"], "Schema name 'bad-name'"),
        (["--schema", "alpha"], "exists already"),
        (["--domain", "alpha.test.localhost"], "already serves a tenant"),
        (["--admin-password", "short"], "too weak"),
    ],
)
def test_create_tenant_refuses_bad_input_and_creates_nothing(
    db: Any, args: list[str], message: str
) -> None:
    values = {
        "--schema": "delta",
        "--name": "Delta",
        "--domain": "delta.test.localhost",
        "--admin-email": "a@delta.example",
        "--admin-password": PASSWORD,
    }
    values.update(dict(zip(args[::2], args[1::2], strict=True)))
    before = Tenant.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_tenant", *[item for pair in values.items() for item in pair])
    assert Tenant.objects.count() == before


def test_suspended_tenant_serves_nothing(client_a: TenantClient, tenant_a: Tenant) -> None:
    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=False)
    response = client_a.get("/login/")
    assert response.status_code == 403
