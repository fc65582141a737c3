"""A small world of billing rows in tenant alpha (and hidden ones in beta) for the tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django_tenants.utils import schema_context

from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    Organization,
    OrganizationalUnit,
    Team,
)
from portal.users.models import Role, User
from tests.conftest import make_user


def payer_org(name: str, account_id: str) -> Organization:
    payer = Account.objects.create(account_id=account_id, name=f"{name} payer")
    org = Organization.objects.create(name=name, management_account=payer)
    Account.objects.filter(pk=payer.pk).update(organization=org)
    return org


def payer_of(org: Organization) -> Account:
    assert org.management_account is not None
    return org.management_account


def next_start(today: date | None = None) -> date:
    """The 1st of the month after next: a start date an invitation may still use."""
    return ((today or date.today()).replace(day=1) + timedelta(days=62)).replace(day=1)


@dataclass
class World:
    """Two organizations of tenant alpha, a customer of each, a team, and their people."""

    acme: Organization
    prod: OrganizationalUnit
    member: Account
    globex: Organization
    customer: EndCustomer
    other_customer: EndCustomer
    team: Team
    other_team: Team
    lead: User
    viewer: User
    finance: User


def make_world() -> World:
    acme, globex = payer_org("Acme", "111111111111"), payer_org("Globex", "333333333333")
    prod = OrganizationalUnit.objects.create(organization=acme, name="Prod")
    member = Account.objects.create(
        account_id="222222222222", name="web", organization=acme, ou=prod
    )
    lead = make_user(Role.TEAM_LEAD, "lena-lead")
    viewer = make_user(Role.END_CUSTOMER, "vic-viewer")
    customer = EndCustomer.objects.create(legal_name="Acme Customer Ltd")
    customer.payers.set([payer_of(acme)])
    customer.viewers.set([viewer])
    other_customer = EndCustomer.objects.create(legal_name="Globex Customer Ltd")
    other_customer.payers.set([payer_of(globex)])
    team, other_team = Team.objects.create(name="Web"), Team.objects.create(name="Data")
    team.leads.set([lead])
    finance = make_user(Role.FINANCE, "fay-finance")
    return World(
        acme=acme, prod=prod, member=member, globex=globex, customer=customer,
        other_customer=other_customer, team=team, other_team=other_team, lead=lead,
        viewer=viewer, finance=finance,
    )  # fmt: skip


MODELS = (
    Organization,
    OrganizationalUnit,
    Account,
    BillingTransfer,
    BillingView,
    Team,
    EndCustomer,
)


def top_id(model: Any) -> int:
    return int(max(model.objects.values_list("pk", flat=True), default=0))


def beta_rows() -> dict[str, Any]:
    """One row of each resource in tenant beta, with an id tenant alpha has not used."""
    alpha_top = {model: top_id(model) for model in MODELS}
    with schema_context("beta"):
        ids = {model: max(alpha_top[model], top_id(model)) + 1000 for model in MODELS}
        org = payer_org("Beta org", "999999999999")
        other = payer_org("Beta other", "888888888888")
        owner = make_user(Role.ADMIN, "beta-owner")
        return {
            "organizations": Organization.objects.create(pk=ids[Organization], name="Hidden"),
            "ous": OrganizationalUnit.objects.create(
                pk=ids[OrganizationalUnit], organization=org, name="Hidden"
            ),
            "accounts": Account.objects.create(pk=ids[Account], account_id="777777777777"),
            "transfers": BillingTransfer.objects.create(
                pk=ids[BillingTransfer],
                source=payer_of(other),
                destination=payer_of(org),
                start_date=next_start(),
            ),
            "billing-views": BillingView.objects.create(pk=ids[BillingView], name="H", owner=owner),
            "teams": Team.objects.create(pk=ids[Team], name="Hidden"),
            "end-customers": EndCustomer.objects.create(pk=ids[EndCustomer], legal_name="Hidden"),
        }


SERIAL = itertools.count(1)


def add_rows(path: str, rows: int, w: World) -> None:
    """More rows for the list `path`, each with its related rows filled in."""
    for _ in range(rows):
        n = next(SERIAL)
        tag = f"{path}-{n}"
        org = payer_org(f"Org {tag}", f"{100000000000 + n:012d}")
        if path == "ous":
            OrganizationalUnit.objects.create(organization=org, name=tag)
        elif path == "accounts":
            Account.objects.create(account_id=f"{200000000000 + n:012d}", organization=w.acme)
        elif path == "transfers":
            BillingTransfer.objects.create(
                source=payer_of(org),
                destination=payer_of(w.acme),
                start_date=next_start(),
            )
        elif path == "billing-views":
            view = BillingView.objects.create(name=tag, owner=w.finance)
            view.payers.set([payer_of(org)])
            view.ous.set([w.prod])
            view.shared_with.set([w.lead])
        elif path == "teams":
            Team.objects.create(name=tag).leads.set([w.lead, w.finance])
        elif path == "end-customers":
            customer = EndCustomer.objects.create(legal_name=tag)
            customer.payers.set([payer_of(org)])
            customer.viewers.set([w.viewer])
