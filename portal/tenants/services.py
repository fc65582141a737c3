"""Creating and suspending tenants (platform operator actions, public schema)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_tenants.utils import schema_context

from portal.audit.services import audit_record, snapshot
from portal.core.errors import ApplicationError
from portal.tenants.models import Domain, Tenant
from portal.users.models import Role, User

SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
RESERVED_SCHEMAS = {"public", "information_schema"}


def _check_new_tenant(*, schema: str, domain: str, admin_email: str, admin_password: str) -> None:
    if not SCHEMA_NAME.match(schema) or schema in RESERVED_SCHEMAS or schema.startswith("pg_"):
        raise ApplicationError(
            f"Schema name {schema!r} must start with a letter and hold only lowercase "
            "letters, digits and underscores (at most 63), and not be a reserved name.",
            code="invalid_schema",
            field="schema",
        )
    if Tenant.objects.filter(schema_name=schema).exists():
        raise ApplicationError(
            f"A tenant with schema {schema!r} exists already.", code="schema_taken", field="schema"
        )
    if not HOST_NAME.match(domain):
        raise ApplicationError(
            f"{domain!r} is not a host name such as acme.localhost.",
            code="invalid_domain",
            field="domain",
        )
    if Domain.objects.filter(domain=domain).exists():
        raise ApplicationError(
            f"The domain {domain!r} already serves a tenant.", code="domain_taken", field="domain"
        )
    try:
        validate_email(admin_email)
    except ValidationError as exc:
        raise ApplicationError(
            f"{admin_email!r} is not an email address.", code="invalid_email", field="admin_email"
        ) from exc
    try:
        validate_password(admin_password)
    except ValidationError as exc:
        raise ApplicationError(
            "The admin password is too weak: " + " ".join(exc.messages),
            code="weak_password",
            field="admin_password",
        ) from exc


def tenant_create(
    *,
    actor: Any,
    schema: str,
    name: str,
    domain: str,
    admin_email: str,
    admin_password: str,
    admin_username: str = "admin",
) -> Tenant:
    """Create a tenant's schema (migrated), its domain and its first admin user."""
    schema = schema.strip().lower()
    domain = domain.strip().lower()
    _check_new_tenant(
        schema=schema, domain=domain, admin_email=admin_email, admin_password=admin_password
    )
    # The schema is created and migrated outside a transaction (as django-tenants
    # requires); anything that fails after it drops the schema again.
    tenant = Tenant(schema_name=schema, name=name.strip() or schema)
    tenant.full_clean()
    tenant.save(verbosity=0)
    try:
        with transaction.atomic():
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
            audit_record(
                actor=actor, action="tenant.create", instance=tenant, after=snapshot(tenant)
            )
        with schema_context(schema), transaction.atomic():
            admin = User.objects.create_user(
                username=admin_username, email=admin_email, password=admin_password, role=Role.ADMIN
            )
            audit_record(
                actor=None,
                actor_name=f"platform:{getattr(actor, 'username', '') or 'system'}",
                action="user.create",
                instance=admin,
                after=snapshot(admin),
            )
    except Exception:
        tenant.auto_drop_schema = True
        tenant.delete(force_drop=True)
        raise
    return tenant


@transaction.atomic
def tenant_set_active(*, actor: Any, tenant: Tenant, active: bool) -> Tenant:
    before = snapshot(tenant)
    tenant.is_active = active
    tenant.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="tenant.resume" if active else "tenant.suspend",
        instance=tenant,
        before=before,
        after=snapshot(tenant),
    )
    return tenant
