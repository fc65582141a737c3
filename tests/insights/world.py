"""Two months of a small estate with known answers, for the cost explorer's tests.

January and February 2026; payer P1 with accounts A1 and A2, payer P2 with A3. A1 belongs
to the end customer Globex, priced +20 % on EC2 BoxUsage, -5 % on S3, +10 % on the rest.
A "Team" category gives tag team=web to "Web" and data to "Data", the rest to "Shared",
which a split shares between Web and Data in proportion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.models import AllocationRun, CostCategory
from billing.models import Account, EndCustomer, Team
from billing.services.customers import end_customer_create, team_create
from insights.services import team_cost_binding_set
from invoices.models import BillingUnit, PriceRule, PricingPlan
from portal.users.models import Role, User
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import make_user

D = Decimal
P1, P2 = "111122223333", "444455556666"
A1, A2, A3 = "210000000001", "210000000002", "310000000003"
JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def cost(
    day: str,
    account: str,
    service: str,
    billed: str,
    *,
    team: str | None = None,
    env: str | None = None,
    payer: str = P1,
    region: str = "us-east-1",
    usage_type: str = "BoxUsage:m5.large",
    category: str = "Usage",
    effective: str | None = None,
) -> dict[str, Any]:
    month = day[:7]
    following = "2026-02-01" if month == "2026-01" else "2026-03-01"
    return line(
        billing_period_start=f"{month}-01",
        billing_period_end=following,
        billing_account_id=payer,
        sub_account_id=account,
        charge_period_start=f"{day}T00:00:00Z",
        charge_period_end=f"{day}T01:00:00Z",
        service_name=service,
        region_id=region,
        x_usage_type=usage_type,
        charge_category=category,
        billed_cost=billed,
        effective_cost=effective or billed,
        list_cost=billed,
        tags=json.dumps({k: v for k, v in (("team", team), ("env", env)) if v}) or None
        if team or env
        else None,
    )


ROWS = [
    cost("2026-01-05", A1, "Amazon EC2", "10.10", team="web", effective="9.00"),
    cost("2026-01-06", A1, "Amazon S3", "5.05", team="data", usage_type="TimedStorage-ByteHrs"),
    cost("2026-01-20", A2, "Amazon EC2", "2.50", team="web", region="eu-west-1"),
    cost("2026-01-31", A2, "Amazon EC2", "1.11", category="Tax", usage_type="Tax"),
    cost("2026-02-03", A1, "Amazon EC2", "20.20", team="web", env="prod", effective="18.00"),
    cost(
        "2026-02-04",
        A1,
        "Amazon S3",
        "4.00",
        team="data",
        env="dev",
        usage_type="TimedStorage-ByteHrs",
    ),
    cost(
        "2026-02-10",
        A3,
        "Amazon RDS",
        "7.77",
        team="data",
        payer=P2,
        region="eu-west-1",
        usage_type="InstanceUsage:db.t3",
    ),
    cost("2026-02-11", A2, "Amazon EC2", "-1.00", category="Credit", usage_type="Credit"),
]


@dataclass
class World:
    admin: User
    lead: User
    customer: User
    web: Team
    data: Team
    globex: EndCustomer
    team_category: CostCategory
    runs: dict[date, AllocationRun]


def build_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    from billing.models import TagKey

    TagKey.objects.create(name="team")
    TagKey.objects.create(name="env")
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, ROWS, name="bill.csv")
    admin = make_user(Role.ADMIN, "world-admin")
    lead = make_user(Role.TEAM_LEAD, "world-lead")
    customer = make_user(Role.END_CUSTOMER, "world-customer")
    accounts = {a: Account.objects.get(account_id=a) for a in (A1, A2, A3)}  # the ingest's
    globex = end_customer_create(
        actor=None, legal_name="Globex", accounts=[accounts[A1]], viewers=[customer]
    )
    category = category_with(
        "Team",
        [
            regular("Web", cond("tag", "equals", "web", key="team")),
            regular("Data", cond("tag", "equals", "data", key="team")),
        ],
        splits=[
            {
                "source": "Shared",
                "method": "proportional",
                "targets": [{"value": "Web"}, {"value": "Data"}],
            }
        ],
        default_value="Shared",
    )
    runs = {month: run(category, month) for month in (JAN, FEB)}
    web = team_create(actor=None, name="Web team", leads=[lead])
    data = team_create(actor=None, name="Data team")
    team_cost_binding_set(actor=None, team=web, category=category, value="Web")
    team_cost_binding_set(actor=None, team=data, category=category, value="Data")
    plan = PricingPlan.objects.create(name="Globex plan", cost_basis="billed_cost")
    PriceRule.objects.create(plan=plan, scope="global", percent=D("10"))
    PriceRule.objects.create(plan=plan, scope="service", service_name="Amazon S3", percent=D("-5"))
    PriceRule.objects.create(
        plan=plan,
        scope="usage_type",
        service_name="Amazon EC2",
        usage_type="BoxUsage:m5.large",
        percent=D("20"),
    )
    customers = CostCategory.objects.create(name="Customer")
    BillingUnit.objects.create(
        name="Globex", category=customers, value="Globex", legal_name="Globex", plan=plan,
        end_customer=globex,
    )  # fmt: skip
    return World(admin, lead, customer, web, data, globex, category, runs)


def account(account_id: str) -> Account:
    return Account.objects.get(account_id=account_id)
