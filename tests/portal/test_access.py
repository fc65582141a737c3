"""The permission layer: every endpoint reads through it; roles write only what they may."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.views import APIView

from portal.api_root import ApiRootApi
from portal.audit.models import AuditEntry
from portal.core.apis import ScopedAPIMixin
from portal.core.views import ScopedViewMixin, WriteRoleRequiredMixin
from portal.tenants.models import Tenant
from portal.users.apis import TokenObtainApi
from portal.users.models import Role, User
from tests.conftest import TenantClient, api_token, make_user

# Endpoints that serve no tenant rows, so need no scoping.
UNSCOPED_APIS = {TokenObtainApi, ApiRootApi, SpectacularAPIView, SpectacularSwaggerView}


def _views(patterns: list[Any]) -> list[Any]:
    found: list[Any] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found.extend(_views(pattern.url_patterns))
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            found.append(
                getattr(callback, "view_class", None) or getattr(callback, "cls", callback)
            )
    return found


def test_every_api_view_reads_through_the_permission_layer() -> None:
    views = _views(get_resolver("portal.urls_tenant").url_patterns)
    api_views = {v for v in views if isinstance(v, type) and issubclass(v, APIView)}
    assert api_views, "the tenant URLconf has API views"
    unscoped = {v for v in api_views if not issubclass(v, ScopedAPIMixin)} - UNSCOPED_APIS
    assert unscoped == set()


def test_every_model_page_reads_through_the_permission_layer() -> None:
    views = _views(get_resolver("portal.urls_tenant").url_patterns)
    model_pages = [
        v
        for v in views
        if isinstance(v, type) and getattr(v, "model", None) and not issubclass(v, APIView)
    ]
    assert model_pages
    for view in model_pages:
        assert issubclass(view, ScopedViewMixin | WriteRoleRequiredMixin), view


def test_admin_creates_a_user_through_the_api_and_it_is_audited(
    client_a: TenantClient, admin_a: User
) -> None:
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/users/",
        {"username": "fin", "password": "Ledger-balance-42", "role": Role.FINANCE},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 201, response.content
    created = User.objects.get(username="fin")
    assert created.role == Role.FINANCE
    entry = AuditEntry.objects.get(action="user.create", object_id=str(created.pk))
    assert entry.actor == admin_a
    assert entry.after is not None
    assert entry.after["role"] == "finance"
    assert "password" not in entry.after


def test_weak_password_is_refused_with_its_reason(client_a: TenantClient, admin_a: User) -> None:
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/users/",
        {"username": "weak", "password": "123", "role": Role.FINANCE},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"
    assert response.json()["field"] == "password"
    assert not User.objects.filter(username="weak").exists()


def test_roles_other_than_admin_cannot_create_users(client_a: TenantClient) -> None:
    for role in (Role.FINANCE, Role.RESELLER_ADMIN, Role.TEAM_LEAD, Role.END_CUSTOMER):
        person = make_user(role, f"p-{role}")
        token = api_token(client_a, person.username)
        response = client_a.post(
            "/api/v1/users/",
            {"username": f"x-{role}", "password": "Ledger-balance-42", "role": Role.ADMIN},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
        )
        assert response.status_code == 403, role
    assert not User.objects.filter(username__startswith="x-").exists()


def test_a_team_lead_sees_only_themself_in_the_user_list(client_a: TenantClient) -> None:
    make_user(Role.FINANCE, "someone-else")
    lead = make_user(Role.TEAM_LEAD, "lead")
    token = api_token(client_a, lead.username)
    response = client_a.get("/api/v1/users/", HTTP_AUTHORIZATION=f"Token {token}")
    assert [row["username"] for row in response.json()["results"]] == ["lead"]


def test_user_change_is_audited_with_before_and_after(admin_client_a: TenantClient) -> None:
    person = make_user(Role.FINANCE, "fran")
    response = admin_client_a.post(
        f"/users/{person.pk}/",
        {"email": "fran@alpha.example", "role": Role.TEAM_LEAD, "is_active": "on"},
    )
    assert response.status_code == 302, response.content
    entry = AuditEntry.objects.get(action="user.update", object_id=str(person.pk))
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.after["role"]) == ("finance", "team_lead")


def test_audit_log_is_for_admins_and_filters_by_object_and_user(
    client_a: TenantClient, admin_client_a: TenantClient, admin_a: User
) -> None:
    other_admin = make_user(Role.ADMIN, "bob-admin")
    admin_client_a.post(
        "/users/new/",
        {"username": "one", "role": Role.FINANCE, "password": "Ledger-balance-42"},
    )
    client_b_admin = TenantClient(client_a.host)
    client_b_admin.force_login(other_admin)
    client_b_admin.post(
        "/users/new/",
        {"username": "two", "role": Role.FINANCE, "password": "Ledger-balance-42"},
    )
    page = admin_client_a.get("/audit/", {"actor": str(admin_a.pk), "object_type": "users.User"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "users.User #" in text
    assert "<small>one</small>" in text and "<small>two</small>" not in text

    token = api_token(client_a, admin_a.username)
    rows = client_a.get(
        "/api/v1/audit/", {"actor": other_admin.pk}, HTTP_AUTHORIZATION=f"Token {token}"
    ).json()["results"]
    assert [row["object_repr"] for row in rows] == ["two"]

    finance = make_user(Role.FINANCE, "nosy")
    finance_token = api_token(client_a, finance.username)
    denied = client_a.get("/api/v1/audit/", HTTP_AUTHORIZATION=f"Token {finance_token}")
    assert denied.status_code == 403
    finance_client = TenantClient(client_a.host)
    finance_client.force_login(finance)
    assert finance_client.get("/audit/").status_code == 403


def test_operator_creates_and_suspends_a_tenant_on_the_public_site(db: Any) -> None:
    operator = User.objects.create_superuser("operator", "op@example.com", "Operator-pass-77")
    client = TenantClient("localhost")
    client.force_login(operator)
    response = client.post(
        "/tenants/new/",
        {
            "name": "Epsilon",
            "schema": "epsilon",
            "domain": "epsilon.test.localhost",
            "admin_email": "a@eps.example",
            "admin_password": "Operator-pass-77",
        },
    )
    assert response.status_code == 302, response.content
    tenant = Tenant.objects.get(schema_name="epsilon")
    assert b"Epsilon" in client.get("/").content
    assert api_token(TenantClient("epsilon.test.localhost"), "admin", "Operator-pass-77")

    client.post(f"/tenants/{tenant.pk}/active/", {"active": "0"})
    tenant.refresh_from_db()
    assert tenant.is_active is False
    assert TenantClient("epsilon.test.localhost").get("/login/").status_code == 403
    assert AuditEntry.objects.filter(action="tenant.suspend", object_id=str(tenant.pk)).exists()


def test_tenant_users_cannot_use_the_operator_site(client_a: TenantClient, admin_a: User) -> None:
    public = TenantClient("localhost")
    public.cookies["sessionid"] = ""
    response = public.get("/")
    assert response.status_code == 302
