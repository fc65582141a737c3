"""What the demo holds: plain values that portal.demo.loader writes through the services."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from portal.users.roles import Role

PASSWORD = "demo-Portal-2026"  # every demo login, the operator's too

PUBLIC_DOMAIN = "localhost"
OPERATOR = "operator"
OPERATOR_EMAIL = "operator@portal.example"

SCHEMA = "acme"
TENANT_NAME = "Acme Corp"
DOMAIN = "acme.localhost"
EMAIL_DOMAIN = "acme.example"


class UserSpec(NamedTuple):
    username: str
    role: str
    first_name: str
    last_name: str


# The first is the admin that tenant_create makes with the tenant.
USERS = (
    UserSpec("admin", Role.ADMIN, "Ada", "Admin"),
    UserSpec("finance", Role.FINANCE, "Fiona", "Ledger"),
    UserSpec("reseller", Role.RESELLER_ADMIN, "Rex", "Seller"),
    UserSpec("teamlead", Role.TEAM_LEAD, "Tess", "Lead"),
    UserSpec("customer", Role.END_CUSTOMER, "Carl", "Globex"),
)


class AccountSpec(NamedTuple):
    account_id: str
    name: str
    ou: tuple[str, ...]  # the OU's path; () is the organization's root
    joined_on: date


class OrganizationSpec(NamedTuple):
    name: str
    payer_id: str
    payer_name: str
    ous: tuple[tuple[str, ...], ...]  # paths, parents before children
    accounts: tuple[AccountSpec, ...]
    # The accounts whose usage the generated bills hold, as the generator's prod, staging,
    # data-platform and sandbox accounts (the payer is the fifth).
    billed: tuple[str, str, str, str]


ENGINEERING = ("Engineering",)
PLATFORM = ("Engineering", "Platform")
DATA = ("Engineering", "Data")
FINANCE = ("Finance",)
SANDBOX = ("Sandbox",)
ROOT: tuple[str, ...] = ()

ACME = OrganizationSpec(
    name="Acme Management",
    payer_id="111122223333",
    payer_name="acme-management",
    ous=(ENGINEERING, PLATFORM, DATA, FINANCE, SANDBOX),
    accounts=(
        AccountSpec("210000000001", "platform-prod", PLATFORM, date(2023, 1, 9)),
        AccountSpec("210000000002", "platform-staging", PLATFORM, date(2023, 1, 9)),
        AccountSpec("210000000003", "data-lake", DATA, date(2023, 6, 1)),
        AccountSpec("210000000004", "data-analytics", DATA, date(2024, 2, 12)),
        AccountSpec("210000000005", "web-frontend", ENGINEERING, date(2023, 3, 20)),
        AccountSpec("210000000006", "finance-tools", FINANCE, date(2024, 9, 2)),
        AccountSpec("210000000007", "sandbox-1", SANDBOX, date(2025, 1, 6)),
        AccountSpec("210000000008", "security-audit", ROOT, date(2023, 1, 9)),
    ),
    billed=("210000000001", "210000000002", "210000000003", "210000000007"),
)

# Its billing is transferred to ACME's payer from the 1st of the month TRANSFER_MONTHS_AGO
# months before loading: the explorer shows its months since on Acme's payer.
SUBSIDIARY = OrganizationSpec(
    name="Acme Subsidiary",
    payer_id="444455556666",
    payer_name="acme-subsidiary",
    ous=(("Workloads",),),
    accounts=(
        AccountSpec("440000000001", "globex-prod", ("Workloads",), date(2024, 4, 1)),
        AccountSpec("440000000002", "globex-dev", ("Workloads",), date(2024, 4, 1)),
        AccountSpec("440000000003", "globex-data", ("Workloads",), date(2024, 4, 1)),
        AccountSpec("440000000004", "globex-sandbox", ("Workloads",), date(2025, 2, 3)),
    ),
    billed=("440000000001", "440000000002", "440000000003", "440000000004"),
)
TRANSFER_NOTE = "Acme pays the subsidiary's bill (demo)."
TRANSFER_MONTHS_AGO = 2


class TeamSpec(NamedTuple):
    name: str
    description: str
    leads: tuple[str, ...]


TEAMS = (
    TeamSpec("Platform", "Shared infrastructure and CI.", ("teamlead",)),
    TeamSpec("Data", "Data lake and analytics.", ("teamlead",)),
    TeamSpec("Web", "The public web site.", ()),
)

# An end customer billed for the subsidiary's organization, seen by the `customer` user.
CUSTOMER = {
    "legal_name": "Globex Ltd",
    "address": "Globex House, 1 Market Street\nDublin D02 XY45\nIreland",
    "tax_id": "IE1234567T",
    "currency": "EUR",
    "contact_name": "Carl Globex",
    "contact_email": "billing@globex.example",
}
CUSTOMER_VIEWER = "customer"

# A billing view of the Engineering OU, owned by the admin and shared with finance.
VIEW_NAME = "Engineering costs"
VIEW_OU = ENGINEERING
VIEW_SHARED_WITH = ("finance",)


# Cost data: generated bills per payer of the last COST_MONTHS full months (COST_ROWS rows
# each) and of this month up to yesterday, and the tag keys reported on.
TAG_KEYS = (("team", ("Team", "TEAM")), ("env", ()), ("cost-center", ()))
COST_MONTHS = 5
COST_ROWS = 20_000
COST_SEED = 2026

# A "Team" category from the `team` tag, its untagged costs shared among the teams in
# proportion to their own; each demo team is bound to its value.
TEAM_CATEGORY = "Team"
TEAM_VALUES = (
    ("Platform", ("platform",)),
    ("Data", ("data", "ml")),
    ("Web", ("web", "payments", "search")),
)
SHARED_VALUE = "Shared"


# Invoicing: the reseller bills Globex for the subsidiary's organization (its payer's costs)
# through a "Customer" category; everything else is Acme's own.
SELLER = {
    "legal_name": "Acme Cloud Services GmbH",
    "address": "Friedrichstrasse 100\n10117 Berlin\nGermany",
    "tax_id": "DE811234567",
    "payment_details": "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
}
CUSTOMER_CATEGORY = "Customer"
INTERNAL_VALUE = "Acme (internal)"
PLAN: dict[str, Any] = {
    "name": "Managed AWS",
    "cost_basis": "billed_cost",
    "description": "List price plus 12 %, compute at 8 %, with a managed-service fee.",
    "rules": [
        {"scope": "global", "percent": "12"},
        {"scope": "service", "service_name": "Amazon Elastic Compute Cloud", "percent": "8"},
    ],
}
PLAN_CHARGES = [
    {"kind": "fee", "description": "Managed service", "basis": "percent", "amount": "4"},
]
UNIT_TAX_RATE = "23"
UNIT_PAYMENT_TERMS_DAYS = 14
