"""Whose cost an asker may see, and at which price: the explorer's scoping.

A `Scope` is resolved once per request from the user's role (through the same scoped
querysets as every page) and, if given, a billing view. The engine adds its locked
filters to every query, so a team lead, an end customer or a user of a shared view can
never widen what they see with their own filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from allocation.models import CostCategory
from billing.models import Account, BillingView, EndCustomer, TagKey, Team
from insights.models import TeamCostBinding
from insights.query import BILL_DIMENSIONS
from invoices.models import BillingUnit
from portal.users.roles import Role

# A filter value meaning "any value at all" (a billing view's tag key without values).
ANY_VALUE = "\x00any"
TENANT_WIDE = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


@dataclass(frozen=True)
class Owner:
    """The end customer of an account or payer, and the plan its resale is priced by."""

    customer: str
    plan_id: int | None
    basis: str  # the plan's cost column


@dataclass
class Scope:
    role: str
    # Filters the asker cannot lift: (dimension, values), each one ANDed.
    locked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    metrics: tuple[str, ...] = ("billed_cost", "effective_cost", "list_cost")
    # Team lead: only allocated cost of their teams' values.
    teams_only: bool = False
    # Account ids and payer ids -> their end customer (and its pricing plan).
    account_owners: dict[str, Owner] = field(default_factory=dict)
    payer_owners: dict[str, Owner] = field(default_factory=dict)
    # The category teams are bound to, and value -> team name.
    team_category: CostCategory | None = None
    team_values: dict[str, str] = field(default_factory=dict)
    tag_keys: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    view: BillingView | None = None

    def dimensions(self) -> list[str]:
        """What this asker may group and filter by."""
        if self.teams_only:
            return ["team", "service", "account", "usage_type"]
        dims = [*BILL_DIMENSIONS, *(f"tag:{key}" for key in self.tag_keys)]
        if self.role == Role.END_CUSTOMER:
            return dims
        if self.team_values:
            dims.append("team")
        if self.account_owners or self.payer_owners:
            dims.append("end_customer")
        return dims + [f"category:{name}" for name in self.categories]


def resolve_scope(user: Any, view: BillingView | None = None) -> Scope:
    """The asker's scope, resolved once per user object (a request) and view."""
    cache: dict[int | None, Scope] = user.__dict__.setdefault("_explorer_scopes", {})
    key = view.pk if view is not None else None
    if key not in cache:
        cache[key] = _resolve(user, view)
    return cache[key]


def _resolve(user: Any, view: BillingView | None) -> Scope:
    role = getattr(user, "role", "")
    scope = Scope(role=role, view=view)
    scope.tag_keys = tuple(TagKey.objects.order_by("name").values_list("name", flat=True))
    bindings = list(TeamCostBinding.objects.select_related("team", "category"))
    if bindings:
        scope.team_category = bindings[0].category
        scope.team_values = {b.value: b.team.name for b in bindings}
    scope.account_owners, scope.payer_owners = _owners(EndCustomer.objects.all())
    if role in TENANT_WIDE:
        scope.categories = tuple(CostCategory.objects.values_list("name", flat=True))
        if any(owner.plan_id for owner in scope.account_owners.values()) or any(
            owner.plan_id for owner in scope.payer_owners.values()
        ):
            scope.metrics = (*scope.metrics, "resale", "margin")
    elif role == Role.END_CUSTOMER:
        customers = list(EndCustomer.objects.visible_to(user).values_list("legal_name", flat=True))
        scope.locked.append(("end_customer", tuple(customers)))
        scope.metrics = ("resale",)
    elif role == Role.TEAM_LEAD and view is None:
        scope.teams_only = True
        teams = Team.objects.visible_to(user).values_list("name", flat=True)
        scope.locked.append(("team", tuple(teams)))
    if view is not None:
        scope.locked.extend(view_filters(view))
    return scope


def view_filters(view: BillingView) -> list[tuple[str, tuple[str, ...]]]:
    """A billing view's criteria as explorer filters (each non-empty one must match)."""
    locked: list[tuple[str, tuple[str, ...]]] = []
    payers = tuple(view.payers.values_list("account_id", flat=True))
    if payers:
        locked.append(("bill_payer", payers))  # the payers whose bills it shows
    ou_ids: list[int] = []
    for ou in view.ous.all():
        ou_ids.extend(ou.descendant_ids())
    accounts = Account.objects.filter(Q(pk__in=view.accounts.values("pk")) | Q(ou__in=ou_ids))
    if view.accounts.exists() or ou_ids:
        locked.append(("account", tuple(accounts.values_list("account_id", flat=True))))
    if view.services:
        locked.append(("service", tuple(view.services)))
    for key, values in sorted((view.tags or {}).items()):
        locked.append((f"tag:{key}", tuple(values) or (ANY_VALUE,)))
    return locked


def _owners(customers: Iterable[EndCustomer]) -> tuple[dict[str, Owner], dict[str, Owner]]:
    """Account id -> owner (its own accounts and its payers' members), payer id -> owner."""
    customers = list(customers.prefetch_related("accounts", "payers"))  # type: ignore[attr-defined]
    units = BillingUnit.objects.filter(end_customer__in=customers, plan__isnull=False)
    plans: dict[int, tuple[int, str]] = {}
    for unit in units.select_related("plan").order_by("name"):
        assert unit.plan is not None and unit.end_customer_id is not None
        plans.setdefault(unit.end_customer_id, (unit.plan.pk, unit.plan.cost_basis))
    accounts: dict[str, Owner] = {}
    payers: dict[str, Owner] = {}
    for customer in customers:
        plan_id, basis = plans.get(customer.pk, (None, "billed_cost"))
        owner = Owner(customer=customer.legal_name, plan_id=plan_id, basis=basis)
        for account in customer.accounts.all():
            accounts.setdefault(account.account_id, owner)
        for payer in customer.payers.all():
            payers.setdefault(payer.account_id, owner)
    members = Account.objects.filter(organization__management_account__account_id__in=payers)
    for account_id, payer_id in members.values_list(
        "account_id", "organization__management_account__account_id"
    ):
        accounts.setdefault(account_id, payers[payer_id])
    return accounts, payers
