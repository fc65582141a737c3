"""Writes to whom cost is charged: teams and end customers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from billing.models import Account, EndCustomer, Team
from billing.services._common import (
    model_errors_as_application_errors,
    refuse_unknown_fields,
    require_payers,
)
from portal.audit.services import audited_create, audited_update
from portal.core.errors import ApplicationError
from portal.users.models import Role, User

TEAM_FIELDS = frozenset({"name", "description"})
TEAM_RELATIONS = frozenset({"leads", "members"})
CUSTOMER_FIELDS = frozenset(
    {"legal_name", "address", "tax_id", "currency", "contact_name", "contact_email"}
)
CUSTOMER_RELATIONS = frozenset({"payers", "accounts", "viewers"})


def _split(
    data: dict[str, Any], fields: frozenset[str], relations: frozenset[str]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    values = {k: v.strip() if isinstance(v, str) else v for k, v in data.items() if k in fields}
    m2m = {k: list(v) for k, v in data.items() if k in relations}
    return values, m2m


def _refuse_taken_team_name(name: str, exclude: int | None = None) -> None:
    taken = Team.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ApplicationError(
            f"A team named {name!r} exists already.", code="team_exists", field="name"
        )


@transaction.atomic
def team_create(
    *,
    actor: Any,
    name: str,
    description: str = "",
    leads: Iterable[User] = (),
    members: Iterable[User] = (),
) -> Team:
    values, m2m = _split(
        {"name": name, "description": description, "leads": leads, "members": members},
        TEAM_FIELDS,
        TEAM_RELATIONS,
    )
    _refuse_taken_team_name(values["name"])
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=Team(**values), m2m=m2m)


@transaction.atomic
def team_update(*, actor: Any, instance: Team, **data: Any) -> Team:
    """Change name, description, leads or members."""
    refuse_unknown_fields(data, TEAM_FIELDS | TEAM_RELATIONS, "team")
    values, m2m = _split(data, TEAM_FIELDS, TEAM_RELATIONS)
    if "name" in values:
        _refuse_taken_team_name(values["name"], exclude=instance.pk)
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=instance, data=values, m2m=m2m)


def _check_customer(values: dict[str, Any], m2m: dict[str, list[Any]], pk: int | None) -> None:
    if "legal_name" in values:
        taken = EndCustomer.objects.filter(legal_name__iexact=values["legal_name"])
        if pk is not None:
            taken = taken.exclude(pk=pk)
        if taken.exists():
            raise ApplicationError(
                f"An end customer named {values['legal_name']!r} exists already.",
                code="end_customer_exists",
                field="legal_name",
            )
    if "currency" in values:
        values["currency"] = values["currency"].upper()
    if "payers" in m2m:
        m2m["payers"] = require_payers(m2m["payers"])
    others = [u.get_username() for u in m2m.get("viewers", []) if u.role != Role.END_CUSTOMER]
    if others:
        raise ApplicationError(
            f"Viewers must be end-customer users; {', '.join(others)} "
            f"{'is' if len(others) == 1 else 'are'} not.",
            code="viewer_not_end_customer",
            field="viewers",
        )


@transaction.atomic
def end_customer_create(
    *,
    actor: Any,
    legal_name: str,
    address: str = "",
    tax_id: str = "",
    currency: str = "USD",
    contact_name: str = "",
    contact_email: str = "",
    payers: Iterable[Account] = (),
    accounts: Iterable[Account] = (),
    viewers: Iterable[User] = (),
) -> EndCustomer:
    """A customer the reseller bills for whole payers' organizations or single accounts."""
    values, m2m = _split(
        {
            "legal_name": legal_name,
            "address": address,
            "tax_id": tax_id,
            "currency": currency,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "payers": payers,
            "accounts": accounts,
            "viewers": viewers,
        },
        CUSTOMER_FIELDS,
        CUSTOMER_RELATIONS,
    )
    _check_customer(values, m2m, pk=None)
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=EndCustomer(**values), m2m=m2m)


@transaction.atomic
def end_customer_update(*, actor: Any, instance: EndCustomer, **data: Any) -> EndCustomer:
    """Change any of the values `end_customer_create` takes; the others stay as they are."""
    refuse_unknown_fields(data, CUSTOMER_FIELDS | CUSTOMER_RELATIONS, "end customer")
    values, m2m = _split(data, CUSTOMER_FIELDS, CUSTOMER_RELATIONS)
    _check_customer(values, m2m, pk=instance.pk)
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=instance, data=values, m2m=m2m)
