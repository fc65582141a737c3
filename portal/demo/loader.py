"""Load the demo tenant through the services; a second load finds everything and writes nothing.

Every object is looked up by its natural key (username, payer or account id, OU path, team
name, legal name, view name) before it is created, so the loader also completes a demo that
someone has partly deleted, and never touches what exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
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
from billing.services import (
    account_create,
    billing_transfer_accept,
    billing_transfer_invite,
    billing_view_create,
    end_customer_create,
    organization_create,
    ou_create,
    team_create,
)
from portal.audit.services import audit_record, snapshot
from portal.demo import data
from portal.demo.budgets import ensure_budgets
from portal.demo.costs import ensure_cost_data
from portal.demo.invoicing import ensure_invoicing
from portal.demo.metrics import ensure_business_metrics
from portal.demo.recommendations import ensure_imported_recommendations
from portal.demo.scores import ensure_team_scores
from portal.demo.teams import ensure_team_costs
from portal.demo.watching import ensure_anomalies_and_forecasts, ensure_notification_endpoint
from portal.tenants.models import Domain, Tenant
from portal.tenants.services import tenant_create
from portal.users.models import Role, User
from portal.users.services import user_create

OuPath = tuple[str, ...]


@dataclass
class DemoLoad:
    """What one load found and what it created (one line per created object)."""

    tenant: Tenant
    created: list[str] = field(default_factory=list)

    def made(self, what: str) -> None:
        self.created.append(what)


def load_demo(
    *,
    schema: str = data.SCHEMA,
    name: str = data.TENANT_NAME,
    domain: str = data.DOMAIN,
    today: date | None = None,
) -> DemoLoad:
    """Ensure the public site, the operator and the demo tenant with its content."""
    today = today or timezone.now().date()
    created = _ensure_public_site()
    tenant = Tenant.objects.filter(schema_name=schema).first()
    if tenant is None:
        # Creates and migrates the schema outside a transaction, with the admin user.
        tenant = tenant_create(
            actor=None,
            schema=schema,
            name=name,
            domain=domain,
            admin_email=f"{data.USERS[0].username}@{data.EMAIL_DOMAIN}",
            admin_password=data.PASSWORD,
            admin_username=data.USERS[0].username,
        )
        created.append(f"tenant {name} ({schema}) at {domain} with user {data.USERS[0].username}")
    load = DemoLoad(tenant=tenant, created=created)
    with schema_context(schema):
        with transaction.atomic():
            _load_tenant_content(load, today)
        # Ingests manage their own transactions (staging, then one publish).
        admin = User.objects.get(username=data.USERS[0].username)
        ensure_cost_data(actor=admin, today=today, made=load.made)
        # Allocation runs commit one by one (a failed run stays recorded as failed).
        ensure_team_costs(actor=admin, made=load.made)
        ensure_imported_recommendations(actor=admin, today=today, made=load.made)
        ensure_team_scores(actor=admin, today=today, made=load.made)
        ensure_business_metrics(actor=admin, today=today, made=load.made)
        ensure_invoicing(actor=admin, today=today, made=load.made)
        ensure_notification_endpoint(actor=admin, made=load.made)
        ensure_budgets(actor=admin, today=today, made=load.made)
        ensure_anomalies_and_forecasts(today=today, made=load.made)
    return load


def _ensure_public_site() -> list[str]:
    """The public tenant (the operator's site) and the platform operator, a superuser.

    tenant_create refuses the reserved public schema, and user_create makes tenant users
    only, so these two are written here, with the same audit entries.
    """
    created: list[str] = []
    with schema_context("public"), transaction.atomic():
        public = Tenant.objects.filter(schema_name="public").first()
        if public is None:
            public = Tenant(schema_name="public", name="Platform")
            public.full_clean()
            public.save(verbosity=0)
            audit_record(
                actor=None, action="tenant.create", instance=public, after=snapshot(public)
            )
            created.append("public tenant")
        if not Domain.objects.filter(domain=data.PUBLIC_DOMAIN).exists():
            Domain.objects.create(domain=data.PUBLIC_DOMAIN, tenant=public, is_primary=True)
            created.append(f"domain {data.PUBLIC_DOMAIN} of the operator's site")
        if not User.objects.filter(username__iexact=data.OPERATOR).exists():
            operator = User(
                username=data.OPERATOR,
                email=data.OPERATOR_EMAIL,
                role=Role.ADMIN,
                is_staff=True,
                is_superuser=True,
            )
            operator.set_password(data.PASSWORD)
            operator.full_clean()
            operator.save()
            audit_record(
                actor=None, action="user.create", instance=operator, after=snapshot(operator)
            )
            created.append(f"platform operator {data.OPERATOR}")
    return created


def _load_tenant_content(load: DemoLoad, today: date) -> None:
    users = _ensure_users(load)
    actor = users[data.USERS[0].username]
    acme, acme_units = _ensure_organization(load, actor, data.ACME)
    subsidiary, _ = _ensure_organization(load, actor, data.SUBSIDIARY)
    _ensure_transfer(load, actor, subsidiary, acme, today)
    _ensure_teams(load, actor, users)
    _ensure_end_customer(load, actor, subsidiary, users)
    _ensure_billing_view(load, actor, acme_units[data.VIEW_OU], users)


def _ensure_users(load: DemoLoad) -> dict[str, User]:
    users: dict[str, User] = {}
    actor: User | None = None
    for spec in data.USERS:
        user = User.objects.filter(username__iexact=spec.username).first()
        if user is None:
            user = user_create(
                actor=actor,
                username=spec.username,
                password=data.PASSWORD,
                role=spec.role,
                email=f"{spec.username}@{data.EMAIL_DOMAIN}",
                first_name=spec.first_name,
                last_name=spec.last_name,
            )
            load.made(f"user {spec.username} ({spec.role})")
        users[spec.username] = user
        actor = actor or user
    return users


def _ensure_organization(
    load: DemoLoad, actor: User, spec: data.OrganizationSpec
) -> tuple[Organization, dict[OuPath, OrganizationalUnit]]:
    organization = Organization.objects.filter(
        management_account__provider="AWS", management_account__account_id=spec.payer_id
    ).first()
    if organization is None:
        organization = organization_create(
            actor=actor,
            name=spec.name,
            management_account_id=spec.payer_id,
            management_account_name=spec.payer_name,
        )
        load.made(f"organization {spec.name} (payer {spec.payer_id})")
    units = _ensure_ous(load, actor, organization, spec.ous)
    for account in spec.accounts:
        if Account.objects.filter(provider="AWS", account_id=account.account_id).exists():
            continue
        account_create(
            actor=actor,
            account_id=account.account_id,
            name=account.name,
            organization=organization,
            ou=units.get(account.ou),
            joined_on=account.joined_on,
        )
        load.made(f"account {account.name} ({account.account_id})")
    return organization, units


def _ensure_ous(
    load: DemoLoad, actor: User, organization: Organization, paths: tuple[OuPath, ...]
) -> dict[OuPath, OrganizationalUnit]:
    units: dict[OuPath, OrganizationalUnit] = {}
    for path in paths:  # parents come first
        parent = units.get(path[:-1])
        unit = OrganizationalUnit.objects.filter(
            organization=organization, parent=parent, name=path[-1]
        ).first()
        if unit is None:
            unit = ou_create(actor=actor, organization=organization, name=path[-1], parent=parent)
            load.made(f"OU {' / '.join(path)} of {organization.name}")
        units[path] = unit
    return units


def _payer(organization: Organization) -> Account:
    payer = organization.management_account
    assert payer is not None, "organization_create always gives one"
    return payer


def _ensure_transfer(
    load: DemoLoad, actor: User, source: Organization, destination: Organization, today: date
) -> None:
    """Invite and accept, unless a transfer between the two exists in any state.

    It started two months before this one (agreed three weeks earlier), so the loaded
    months show the subsidiary's bill paid by Acme from then on.
    """
    payer, payer_of_payers = _payer(source), _payer(destination)
    if BillingTransfer.objects.filter(source=payer, destination=payer_of_payers).exists():
        return
    start = _months_before(today.replace(day=1), data.TRANSFER_MONTHS_AGO)
    agreed = start - timedelta(days=21)
    transfer = billing_transfer_invite(
        actor=actor,
        source=payer,
        destination=payer_of_payers,
        start_date=start,
        note=data.TRANSFER_NOTE,
        today=agreed,
    )
    billing_transfer_accept(actor=actor, transfer=transfer, today=agreed + timedelta(days=1))
    load.made(f"billing transfer {payer} → {payer_of_payers} from {start} (accepted)")


def _months_before(month: date, count: int) -> date:
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _ensure_teams(load: DemoLoad, actor: User, users: dict[str, User]) -> None:
    for spec in data.TEAMS:
        if Team.objects.filter(name=spec.name).exists():
            continue
        leads = [users[username] for username in spec.leads]
        team_create(actor=actor, name=spec.name, description=spec.description, leads=leads)
        load.made(f"team {spec.name}")


def _ensure_end_customer(
    load: DemoLoad, actor: User, organization: Organization, users: dict[str, User]
) -> None:
    legal_name = data.CUSTOMER["legal_name"]
    if EndCustomer.objects.filter(legal_name=legal_name).exists():
        return
    fields: dict[str, Any] = dict(data.CUSTOMER)
    end_customer_create(
        actor=actor,
        **fields,
        payers=[_payer(organization)],
        viewers=[users[data.CUSTOMER_VIEWER]],
    )
    load.made(f"end customer {legal_name}")


def _ensure_billing_view(
    load: DemoLoad, actor: User, ou: OrganizationalUnit, users: dict[str, User]
) -> None:
    if BillingView.objects.filter(name=data.VIEW_NAME).exists():
        return
    billing_view_create(
        actor=actor,
        name=data.VIEW_NAME,
        ous=[ou],
        shared_with=[users[username] for username in data.VIEW_SHARED_WITH],
    )
    load.made(f"billing view {data.VIEW_NAME}")
