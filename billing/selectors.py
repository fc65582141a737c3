"""Reads of the organization model, and of which billing periods are loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max

from billing.models import (
    Account,
    CostCube,
    CostLineItem,
    LoadedPeriod,
    Organization,
    OrganizationalUnit,
)
from billing.payers import PayerChains
from portal.core.errors import ApplicationError


@dataclass
class OUNode:
    """One OU with the accounts directly in it and the OUs directly below it."""

    ou: OrganizationalUnit
    accounts: list[Account] = field(default_factory=list)
    children: list[OUNode] = field(default_factory=list)


@dataclass
class OrganizationTree:
    """An organization: the accounts at its root and its top-level OUs, nested."""

    organization: Organization
    accounts: list[Account] = field(default_factory=list)
    units: list[OUNode] = field(default_factory=list)


def organization_tree(*, organization: Organization) -> OrganizationTree:
    """The organization's OUs and accounts as a tree, in two queries.

    OUs are sorted by name and accounts by name then id at every level; each OU's
    `parent` and each account's `ou` and `organization` are filled in from the same
    rows, so `ou.path` and `account.ou` cost no further queries.
    """
    units = list(OrganizationalUnit.objects.filter(organization=organization).order_by("name"))
    accounts = list(
        Account.objects.filter(organization=organization).order_by("name", "account_id")
    )
    nodes = {unit.pk: OUNode(ou=unit) for unit in units}
    tree = OrganizationTree(organization=organization)
    for unit in units:
        unit.organization = organization
        if unit.parent_id is None:
            tree.units.append(nodes[unit.pk])
        else:
            unit.parent = nodes[unit.parent_id].ou
            nodes[unit.parent_id].children.append(nodes[unit.pk])
    for account in accounts:
        account.organization = organization
        if account.ou_id is None:
            tree.accounts.append(account)
        else:
            account.ou = nodes[account.ou_id].ou
            nodes[account.ou_id].accounts.append(account)
    return tree


def billing_payer_of_record(*, payer: Account, day: date) -> Account:
    """The payer that pays `payer`'s bill on `day`, following chains of transfers.

    If A transfers to B and B to C on that day, C pays for A, B and C. A payer with no
    transfer in force pays for itself.
    """
    record = PayerChains().payer_of_record(payer.account_id, day)
    if record == payer.account_id:
        return payer
    return Account.objects.filter(account_id=record).order_by("pk").first() or payer


def loaded_month(period: date, *, first: str) -> date:
    """The month of `period`, refused unless some cost data of it is loaded.

    `first` says what to do before asking again (e.g. "load its bill files").
    """
    month = period.replace(day=1)
    if not LoadedPeriod.objects.filter(billing_period_start=month).exists():
        raise ApplicationError(
            f"No cost data is loaded for {month:%Y-%m}; {first} first.",
            code="period_not_loaded",
            field="period",
        )
    return month


def bill_currencies(period: date) -> set[str]:
    """The currencies of the period's ingested bill."""
    return set(
        CostLineItem.objects.filter(billing_period_start=period)
        .values_list("billing_currency", flat=True)
        .distinct()
    )


def latest_cost_day(period: date) -> date | None:
    """The last day the period's loaded bills have cost on (bills arrive a day or so late).

    Reads the cost cube's smallest daily grain (index costcube_grain_day).
    """
    found = CostCube.objects.filter(
        grain="day_service", billing_period_start=period.replace(day=1)
    ).aggregate(last=Max("day"))
    return found["last"]
