"""A tenant whose data is committed, for tests where other connections must see it.

Such tests run their work in threads, each on its own connection; the tenant's schema and
the public audit entries it made are removed afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from django.db import connection, connections
from django_tenants.utils import schema_context

from portal.audit.models import AuditEntry
from portal.tenants.services import tenant_create
from tests.conftest import PASSWORD, TenantClient, api_token

T = TypeVar("T")


def tenant_host(schema: str) -> str:
    """The host name of the tenant `committed_tenant(..., schema)` makes."""
    return f"{schema.replace('_', '-')}.test.localhost"


@contextmanager
def committed_tenant(django_db_blocker: Any, schema: str) -> Iterator[None]:
    """Within it, the database is open to the caller and `schema` is the tenant's schema."""
    with django_db_blocker.unblock():
        public_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        tenant = tenant_create(
            actor=None,
            schema=schema,
            name=schema.replace("_", " ").capitalize(),
            domain=tenant_host(schema),
            admin_email=f"admin@{schema.replace('_', '-')}.example",
            admin_password=PASSWORD,
        )
        try:
            with schema_context(schema):
                yield
        finally:
            tenant.auto_drop_schema = True
            tenant.delete(force_drop=True)
            AuditEntry.objects.filter(pk__gt=public_audit or 0).delete()


def on_own_connection(schema: str, work: Callable[[], T], *, seconds: float = 60) -> T:
    """What `work` returns, done in `schema` on a connection of its own and committed there
    (as a web request or a worker would), so other connections and processes see it.

    What `work` raises is raised here, in the test.
    """
    answers: list[Any] = []

    def target() -> None:
        try:
            connection.set_schema(schema)  # type: ignore[attr-defined]
            answers.append(work())
        except BaseException as exc:  # handed to the test
            answers.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=seconds)
    if isinstance(answers[0], BaseException):
        raise answers[0]
    answer: T = answers[0]
    return answer


def committed_tenant_fixtures(schema: str) -> tuple[Any, Any]:
    """The fixtures `committed` (the tenant `schema`, committed once per module) and
    `in_schema` (a test's connection set to it), for a module to bind under those names."""

    @pytest.fixture(scope="module")
    def committed(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
        with committed_tenant(django_db_blocker, schema):
            yield

    @pytest.fixture
    def in_schema(committed: None, db: Any) -> None:
        connection.set_schema(schema)  # type: ignore[attr-defined]

    return committed, in_schema


def admin_api_get(schema: str, path: str) -> Any:
    """The JSON the tenant's admin gets from the API at `path`, which must answer 200."""
    client = TenantClient(tenant_host(schema))
    token = api_token(client, "admin", PASSWORD)
    response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200, response.content
    return response.json()
