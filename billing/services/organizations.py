"""Writes to the organization tree: organizations, OUs and accounts."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F, Max

from billing.models import Account, Organization, OrganizationalUnit
from billing.models.organizations import MAX_OU_DEPTH
from billing.services._common import model_errors_as_application_errors, refuse_unknown_fields
from portal.audit.services import audit_record, audited_create, audited_update, snapshot
from portal.core.errors import ApplicationError


class Unchanged(enum.Enum):
    """The type of `UNCHANGED`: "leave this value as it is" where None is a value."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED
ACCOUNT_FIELDS = frozenset({"name", "organization", "ou", "joined_on", "left_on"})


def _account_label(provider: str, account_id: str) -> str:
    return f"{provider} account {account_id}"


def _take_account_for_organization(*, provider: str, account_id: str, name: str) -> Account:
    """The existing account (if no organization holds it) or a new one, locked."""
    rows = Account.objects.select_for_update().filter(provider=provider, account_id=account_id)
    existing = rows.first()
    if existing is None:
        new = Account(provider=provider, account_id=account_id, name=name)
        with model_errors_as_application_errors():
            new.full_clean()
        new.save()
        return new
    managed = Organization.objects.filter(management_account=existing).first()
    if managed is not None:
        raise ApplicationError(
            f"{_account_label(provider, account_id)} is already the management account of "
            f"{managed.name!r}.",
            code="account_is_payer",
            field="management_account_id",
        )
    if existing.organization_id is not None:
        raise ApplicationError(
            f"{_account_label(provider, account_id)} is a member of {existing.organization}; "
            "remove it from that organization first.",
            code="account_in_other_organization",
            field="management_account_id",
        )
    if name and not existing.name:
        existing.name = name
    return existing


@transaction.atomic
def organization_create(
    *,
    actor: Any,
    name: str,
    management_account_id: str,
    management_account_name: str = "",
    provider: str = "AWS",
) -> Organization:
    """A new organization paid for by its management account.

    The management account is created unless an account with that id exists and belongs
    to no organization; either way it becomes a member of the new organization. One audit
    entry records the organization with its management account.
    """
    account = _take_account_for_organization(
        provider=provider, account_id=management_account_id.strip(), name=management_account_name
    )
    organization = Organization(name=name.strip(), management_account=account)
    with model_errors_as_application_errors():
        organization.full_clean()
    organization.save()
    account.organization = organization
    account.ou = None
    with model_errors_as_application_errors():
        account.full_clean()
    account.save()
    after = {**snapshot(organization), "management_account": snapshot(account)}
    audit_record(actor=actor, action="organization.create", instance=organization, after=after)
    return organization


@transaction.atomic
def organization_update(*, actor: Any, instance: Organization, name: str) -> Organization:
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=instance, data={"name": name.strip()})


def _refuse_duplicate_ou(
    *, organization_id: int, parent: OrganizationalUnit | None, name: str, exclude: int | None
) -> None:
    siblings = OrganizationalUnit.objects.filter(
        organization_id=organization_id, parent=parent, name=name
    )
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        where = parent.path if parent else "the root"
        raise ApplicationError(
            f"{where} already holds an OU named {name!r}.", code="ou_name_taken", field="name"
        )


def _refuse_parent_of_other_organization(
    parent: OrganizationalUnit | None, organization_id: int
) -> None:
    if parent is not None and parent.organization_id != organization_id:
        raise ApplicationError(
            f"The parent OU {parent.path} belongs to another organization.",
            code="ou_other_organization",
            field="parent",
        )


def _refuse_too_deep(*, parent: OrganizationalUnit | None, name: str, deepest: int) -> None:
    if deepest > MAX_OU_DEPTH:
        path = f"{parent.path} / {name}" if parent else name
        raise ApplicationError(
            f"{path} would put OUs {deepest} levels below the root; an organization allows "
            f"at most {MAX_OU_DEPTH} levels.",
            code="ou_too_deep",
            field="parent",
        )


def _lock_organization(organization_id: int) -> None:
    """Serialize changes to one organization's tree (depths and cycles are tree-wide)."""
    Organization.objects.select_for_update().filter(pk=organization_id).first()


@transaction.atomic
def ou_create(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    parent: OrganizationalUnit | None = None,
) -> OrganizationalUnit:
    name = name.strip()
    _lock_organization(organization.pk)
    if parent is not None:
        parent = OrganizationalUnit.objects.get(pk=parent.pk)
    _refuse_parent_of_other_organization(parent, organization.pk)
    depth = parent.depth + 1 if parent else 1
    _refuse_too_deep(parent=parent, name=name, deepest=depth)
    _refuse_duplicate_ou(organization_id=organization.pk, parent=parent, name=name, exclude=None)
    unit = OrganizationalUnit(organization=organization, parent=parent, name=name, depth=depth)
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=unit)


@transaction.atomic
def ou_update(
    *,
    actor: Any,
    instance: OrganizationalUnit,
    name: str | None = None,
    parent: OrganizationalUnit | Unchanged | None = UNCHANGED,
) -> OrganizationalUnit:
    """Rename an OU and/or move it (with everything below it) under `parent`.

    `parent=None` moves it to the organization's root; leave `parent` out to keep it where
    it is. A move is refused when it would make a cycle or put any OU of the subtree more
    than MAX_OU_DEPTH levels below the root. Depths of the whole subtree follow the move.
    """
    _lock_organization(instance.organization_id)
    unit = OrganizationalUnit.objects.get(pk=instance.pk)
    new_name = unit.name if name is None else name.strip()
    new_parent = unit.parent if isinstance(parent, Unchanged) else parent
    if new_parent is not None:
        new_parent = OrganizationalUnit.objects.get(pk=new_parent.pk)
    subtree = unit.descendant_ids()
    _refuse_parent_of_other_organization(new_parent, unit.organization_id)
    if new_parent is not None and new_parent.pk in subtree:
        raise ApplicationError(
            f"{unit.path} cannot move under itself or an OU below it ({new_parent.path}).",
            code="ou_cycle",
            field="parent",
        )
    new_depth = new_parent.depth + 1 if new_parent else 1
    lowest = OrganizationalUnit.objects.filter(pk__in=subtree).aggregate(m=Max("depth"))["m"]
    _refuse_too_deep(parent=new_parent, name=new_name, deepest=new_depth + (lowest - unit.depth))
    _refuse_duplicate_ou(
        organization_id=unit.organization_id, parent=new_parent, name=new_name, exclude=unit.pk
    )
    shift = new_depth - unit.depth
    with model_errors_as_application_errors():
        moved = audited_update(
            actor=actor,
            instance=unit,
            data={"name": new_name, "parent": new_parent, "depth": new_depth},
        )
    if shift:
        below = [pk for pk in subtree if pk != unit.pk]
        OrganizationalUnit.objects.filter(pk__in=below).update(depth=F("depth") + shift)
    return moved


def _refuse_ou_outside_organization(
    ou: OrganizationalUnit | None, organization: Organization | None
) -> None:
    if ou is not None and (organization is None or ou.organization_id != organization.pk):
        where = organization.name if organization else "no organization"
        raise ApplicationError(
            f"The OU {ou.path} is not part of {where}; pick an OU of the account's organization.",
            code="ou_other_organization",
            field="ou",
        )


@transaction.atomic
def account_create(
    *,
    actor: Any,
    account_id: str,
    name: str = "",
    organization: Organization | None = None,
    ou: OrganizationalUnit | None = None,
    joined_on: date | None = None,
    left_on: date | None = None,
    provider: str = "AWS",
) -> Account:
    account_id = account_id.strip()
    _refuse_ou_outside_organization(ou, organization)
    existing = Account.objects.filter(provider=provider, account_id=account_id).first()
    if existing is not None:
        raise ApplicationError(
            f"{_account_label(provider, account_id)} exists already ({existing}).",
            code="account_exists",
            field="account_id",
        )
    account = Account(
        provider=provider,
        account_id=account_id,
        name=name.strip(),
        organization=organization,
        ou=ou,
        joined_on=joined_on,
        left_on=left_on,
    )
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=account)


@transaction.atomic
def account_update(*, actor: Any, instance: Account, **data: Any) -> Account:
    """Change name, organization, ou, joined_on or left_on.

    Moving an account to another organization without naming an OU puts it at the new
    organization's root. A management account stays in its own organization.
    """
    refuse_unknown_fields(data, ACCOUNT_FIELDS, "account")
    account = Account.objects.select_for_update().get(pk=instance.pk)
    if "name" in data:
        data["name"] = data["name"].strip()
    organization = data.get("organization", account.organization)
    moved = (organization.pk if organization else None) != account.organization_id
    if moved and Organization.objects.filter(management_account=account).exists():
        raise ApplicationError(
            f"{account} is the management account of {account.organization}; it cannot "
            "leave its organization.",
            code="payer_organization_fixed",
            field="organization",
        )
    if moved and "ou" not in data:
        data["ou"] = None
    _refuse_ou_outside_organization(data.get("ou", account.ou), organization)
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=account, data=data)
