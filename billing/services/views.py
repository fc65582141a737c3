"""Writes to billing views: saved cost filters shared read-only with named users."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from billing.models import Account, BillingView, OrganizationalUnit
from billing.models.views import MAX_VIEW_PAYERS
from billing.services._common import (
    model_errors_as_application_errors,
    refuse_unknown_fields,
    require_payers,
)
from portal.audit.services import audited_create, audited_update
from portal.core.errors import ApplicationError
from portal.users.models import Role, User

VIEW_FIELDS = frozenset({"name", "tags", "services"})
VIEW_RELATIONS = frozenset({"payers", "accounts", "ous", "shared_with"})


def _check_payers(payers: Iterable[Account]) -> list[Account]:
    chosen = list(dict.fromkeys(payers))
    if len(chosen) > MAX_VIEW_PAYERS:
        raise ApplicationError(
            f"A billing view can hold at most {MAX_VIEW_PAYERS} payers; {len(chosen)} were chosen.",
            code="too_many_payers",
            field="payers",
        )
    return require_payers(chosen)


def _check_tags(tags: Any) -> dict[str, list[str]]:
    valid = isinstance(tags, dict) and all(
        isinstance(key, str)
        and key.strip()
        and isinstance(values, list)
        and all(isinstance(v, str) for v in values)
        for key, values in tags.items()
    )
    if not valid:
        raise ApplicationError(
            'Tags are an object of tag key to a list of values, such as {"team": ["web"]}; '
            "an empty list means any value.",
            code="invalid_tags",
            field="tags",
        )
    return dict(tags)


def _check_services(services: Any) -> list[str]:
    if not (isinstance(services, list) and all(isinstance(s, str) for s in services)):
        raise ApplicationError(
            'Services are a list of service names, such as ["AmazonEC2"].',
            code="invalid_services",
            field="services",
        )
    return list(services)


def _checked(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Split into field values and many-to-many lists, each checked."""
    fields = {k: v for k, v in data.items() if k in VIEW_FIELDS}
    m2m = {k: list(v) for k, v in data.items() if k in VIEW_RELATIONS}
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    if "tags" in fields:
        fields["tags"] = _check_tags(fields["tags"])
    if "services" in fields:
        fields["services"] = _check_services(fields["services"])
    if "payers" in m2m:
        m2m["payers"] = _check_payers(m2m["payers"])
    return fields, m2m


@transaction.atomic
def billing_view_create(
    *,
    actor: Any,
    name: str,
    payers: Iterable[Account] = (),
    accounts: Iterable[Account] = (),
    ous: Iterable[OrganizationalUnit] = (),
    tags: dict[str, list[str]] | None = None,
    services: list[str] | None = None,
    shared_with: Iterable[User] = (),
) -> BillingView:
    """A view owned by `actor`; the users in `shared_with` may read it, not change it."""
    if not isinstance(actor, User):
        raise ApplicationError("A billing view needs a user as its owner.", code="owner_required")
    fields, m2m = _checked(
        {
            "name": name,
            "tags": {} if tags is None else tags,
            "services": [] if services is None else services,
            "payers": payers,
            "accounts": accounts,
            "ous": ous,
            "shared_with": shared_with,
        }
    )
    view = BillingView(owner=actor, **fields)
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=view, m2m=m2m)


@transaction.atomic
def billing_view_update(*, actor: Any, instance: BillingView, **data: Any) -> BillingView:
    """Change name, payers, accounts, ous, tags, services or shared_with.

    Only the owner or an admin may; the users it is shared with only read it.
    """
    refuse_unknown_fields(data, VIEW_FIELDS | VIEW_RELATIONS, "billing view")
    is_owner = getattr(actor, "pk", None) == instance.owner_id
    if not (is_owner or getattr(actor, "role", None) == Role.ADMIN):
        raise ApplicationError(
            f"Only the owner of {instance.name!r} or an admin may change it.", code="forbidden"
        )
    fields, m2m = _checked(data)
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=instance, data=fields, m2m=m2m)
