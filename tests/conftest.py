"""Two tenants for the whole session; each test runs in a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection as default_connection
from django.test import Client
from django_tenants.utils import schema_context

from portal.tenants.models import Domain, Tenant
from portal.tenants.services import tenant_create
from portal.users.models import Role, User

# django-tenants adds schema methods to the connection that the type stubs do not know.
connection: Any = default_connection

PASSWORD = "correct-Horse-battery-9"
TENANT_HOSTS = {"alpha": "alpha.test.localhost", "beta": "beta.test.localhost"}
PUBLIC_HOST = "localhost"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        public = Tenant(schema_name="public", name="Platform")
        public.save(verbosity=0)
        Domain.objects.create(domain=PUBLIC_HOST, tenant=public, is_primary=True)
        for schema, host in TENANT_HOSTS.items():
            tenant_create(
                actor=None,
                schema=schema,
                name=schema.capitalize(),
                domain=host,
                admin_email=f"admin@{schema}.example",
                admin_password=PASSWORD,
            )


@pytest.fixture(autouse=True)
def _public_schema_after_test() -> Iterator[None]:
    yield
    connection.set_schema_to_public()


@pytest.fixture
def tenant_a(db: Any) -> Iterator[Tenant]:
    """Tenant alpha; the test body runs in its schema."""
    tenant = Tenant.objects.get(schema_name="alpha")
    connection.set_tenant(tenant)
    yield tenant


@pytest.fixture
def tenant_b(db: Any) -> Tenant:
    with schema_context("public"):
        return Tenant.objects.get(schema_name="beta")


class TenantClient(Client):
    """A test client bound to one tenant's host; it puts the schema back after each call."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        super().__init__(HTTP_HOST=host, **kwargs)
        self.host = host

    def request(self, **request: Any) -> Any:
        schema = connection.schema_name
        try:
            return super().request(**request)
        finally:
            connection.set_schema(schema)


def make_user(role: str, username: str | None = None, **extra: Any) -> User:
    """A user of the current schema's tenant with `role`."""
    user = User.objects.create_user(
        username=username or f"{role}-{User.objects.count() + 1}",
        password=PASSWORD,
        role=role,
        **extra,
    )
    return user


@pytest.fixture
def client_a(tenant_a: Tenant) -> TenantClient:
    return TenantClient(TENANT_HOSTS["alpha"])


@pytest.fixture
def client_b(tenant_b: Tenant) -> TenantClient:
    return TenantClient(TENANT_HOSTS["beta"])


@pytest.fixture
def admin_a(tenant_a: Tenant) -> User:
    return make_user(Role.ADMIN, "alice-admin")


@pytest.fixture
def admin_client_a(client_a: TenantClient, admin_a: User) -> TenantClient:
    client_a.force_login(admin_a)
    return client_a


def api_token(client: Client, username: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


class Api:
    """A tenant's /api/v1/ as one user, with that user's token."""

    def __init__(self, client: TenantClient, user: User) -> None:
        self.client = client
        self.auth = f"Token {api_token(client, user.username)}"

    def get(self, path: str, data: Any = None) -> Any:
        return self.client.get(f"/api/v1/{path}", data, HTTP_AUTHORIZATION=self.auth)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            f"/api/v1/{path}",
            data or {},
            content_type="application/json",
            HTTP_AUTHORIZATION=self.auth,
        )

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(
            f"/api/v1/{path}", data, content_type="application/json", HTTP_AUTHORIZATION=self.auth
        )


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    # Tests create many users; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test client speaks plain HTTP; tests of the HTTPS redirect turn it on themselves.
    settings.SECURE_SSL_REDIRECT = False


def shared_data(*parts: str) -> Path:
    """A file of the shared data folder that sits beside the checkout."""
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    root = beside if beside.is_dir() else Path("/work/shared/data")
    return root.joinpath(*parts)
