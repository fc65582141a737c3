"""A tenant whose data is committed, for tests where other connections must see it.

Such tests run their work in threads, each on its own connection; the tenant's schema and
the public audit entries it made are removed afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection, connections
from django_tenants.utils import schema_context

from portal.audit.models import AuditEntry
from portal.tenants.services import tenant_create
from tests.conftest import PASSWORD

T = TypeVar("T")


@contextmanager
def committed_tenant(django_db_blocker: Any, schema: str) -> Iterator[None]:
    """Within it, the database is open to the caller and `schema` is the tenant's schema."""
    with django_db_blocker.unblock():
        public_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        tenant = tenant_create(
            actor=None,
            schema=schema,
            name=schema.replace("_", " ").capitalize(),
            domain=f"{schema.replace('_', '-')}.test.localhost",
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
