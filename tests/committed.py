"""A tenant whose data is committed, for tests where other connections must see it.

Such tests run their work in threads, each on its own connection; the tenant's schema and
the public audit entries it made are removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django_tenants.utils import schema_context

from portal.audit.models import AuditEntry
from portal.tenants.services import tenant_create
from tests.conftest import PASSWORD


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
