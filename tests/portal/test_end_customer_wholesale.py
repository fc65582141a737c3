"""End customers see resale (pro forma) cost only, never wholesale, on every page and API.

A demo-like tenant: Acme's own organization and its subsidiary's, whose costs the reseller
bills to Globex Ltd (the `customer` login) on a plan of +12 % with a 4 % managed-service
fee; last month's invoice is issued and this month's cost is loaded. Every wholesale figure
(billed, effective and list cost, margins, Acme's own costs, the bill's totals) is
distinctive and appears in no response the customer gets; their resale figures appear where
they read their cost.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.timezone import localdate

from allocation.models import AllocationRun, CostCategory
from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    IngestJob,
    Organization,
    OrganizationalUnit,
    TagKey,
    Team,
)
from billing.services import (
    account_create,
    billing_view_create,
    end_customer_create,
    organization_create,
    ou_create,
    team_create,
)
from insights.query import METRICS, add_months
from invoices.models import (
    BillingUnit,
    Invoice,
    InvoiceRun,
    PlanCharge,
    PriceRule,
    PricingPlan,
)
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import TenantClient, make_user
from tests.invoices.pdf_text import pdf_text
from tests.invoices.world import seller

D = Decimal
ACME_PAYER, SUBSIDIARY_PAYER = "111122223333", "444455556666"
PLATFORM_PROD, GLOBEX_PROD = "210000000001", "440000000001"
EC2, S3 = "Amazon Elastic Compute Cloud", "Amazon Simple Storage Service"

# Wholesale: (billed, effective, list) of each month's one line, per account.
GLOBEX_LAST = ("6173.29", "5882.41", "6437.53")
GLOBEX_THIS = ("3719.47", "3528.61", "3847.19")
ACME_LAST = ("5293.17", "5011.83", "5567.39")
ACME_THIS = ("9051.77", "8712.93", "9388.61")
# Resale on billed cost +12 %; the fee is 4 % of the resale.
RESALE_LAST, FEE_LAST = D("6914.0848"), D("276.563392")
RESALE_THIS, FEE_THIS = D("4165.8064"), D("166.632256")


def wholesale_figures() -> list[Decimal]:
    """Every amount only the reseller may see: costs, margins and the bill's totals."""
    lines = [GLOBEX_LAST, GLOBEX_THIS, ACME_LAST, ACME_THIS]
    figures = [D(amount) for columns in lines for amount in columns]
    for globex, acme in ((GLOBEX_LAST, ACME_LAST), (GLOBEX_THIS, ACME_THIS)):
        figures += [D(a) + D(b) for a, b in zip(globex, acme, strict=True)]
    for resale, fee, billed in ((RESALE_LAST, FEE_LAST, GLOBEX_LAST[0]),
                                (RESALE_THIS, FEE_THIS, GLOBEX_THIS[0])):  # fmt: skip
        figures += [resale - D(billed), resale + fee - D(billed)]
    return figures


def figure_pattern(amount: Decimal) -> re.Pattern[str]:
    """The amount written any way (rounded, exact, grouped): its whole part and a decimal."""
    whole = int(abs(amount))
    return re.compile(rf"(?<![\d.]){whole}\.\d")


FORBIDDEN = [(amount, figure_pattern(amount)) for amount in wholesale_figures()]


@dataclass
class Estate:
    customer: User
    globex: EndCustomer
    invoice: Invoice
    view: BillingView
    this_month: date
    last_month: date


def bill_line(month: date, payer: str, account: str, service: str, usage: str, costs: Any):
    billed, effective, list_cost = costs
    return line(
        billing_period_start=month.isoformat(),
        billing_period_end=add_months(month, 1).isoformat(),
        billing_account_id=payer,
        sub_account_id=account,
        charge_period_start=f"{month}T00:00:00Z",
        charge_period_end=f"{month}T01:00:00Z",
        service_name=service,
        x_usage_type=usage,
        billed_cost=billed,
        effective_cost=effective,
        list_cost=list_cost,
        contracted_cost=billed,
    )


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def estate(tenant_a: Any, admin_a: User, tmp_path: Path, monkeypatch: Any) -> Estate:
    this_month = localdate().replace(day=1)
    last_month = add_months(this_month, -1)
    acme = organization_create(
        actor=admin_a, name="Acme Management", management_account_id=ACME_PAYER,
        management_account_name="acme-management",
    )  # fmt: skip
    platform = ou_create(actor=admin_a, organization=acme, name="Platform")
    account_create(actor=admin_a, account_id=PLATFORM_PROD, name="platform-prod",
                   organization=acme, ou=platform)  # fmt: skip
    subsidiary = organization_create(
        actor=admin_a, name="Acme Subsidiary", management_account_id=SUBSIDIARY_PAYER,
        management_account_name="acme-subsidiary",
    )  # fmt: skip
    account_create(actor=admin_a, account_id=GLOBEX_PROD, name="globex-prod",
                   organization=subsidiary)  # fmt: skip
    customer = make_user(Role.END_CUSTOMER, "customer")
    globex = end_customer_create(
        actor=admin_a, legal_name="Globex Ltd", currency="USD",
        payers=[Account.objects.get(account_id=SUBSIDIARY_PAYER)], viewers=[customer],
    )  # fmt: skip
    team_create(actor=admin_a, name="Platform", leads=[make_user(Role.TEAM_LEAD, "teamlead")])
    TagKey.objects.create(name="team")

    files = use_fake_files(tmp_path, monkeypatch)
    for month, globex_costs, acme_costs, name in (
        (last_month, GLOBEX_LAST, ACME_LAST, "last.csv"),
        (this_month, GLOBEX_THIS, ACME_THIS, "this.csv"),
    ):
        service, usage = (EC2, "BoxUsage:m5.large") if month == last_month else (S3, "Storage")
        ingest(files, [
            bill_line(month, SUBSIDIARY_PAYER, GLOBEX_PROD, service, usage, globex_costs),
            bill_line(month, ACME_PAYER, PLATFORM_PROD, EC2, "BoxUsage:c5.large", acme_costs),
        ], name=name)  # fmt: skip

    category = category_with(
        "Customer",
        [regular("Globex Ltd", cond("payer", "equals", SUBSIDIARY_PAYER))],
        default_value="Acme (internal)",
    )
    run(category, last_month)
    plan = PricingPlan.objects.create(name="Managed AWS", cost_basis="billed_cost")
    PriceRule.objects.create(plan=plan, scope="global", percent=D("12"))
    PlanCharge.objects.create(plan=plan, kind="fee", description="Managed service",
                              basis="percent", amount=D("4"), first_month=last_month)  # fmt: skip
    seller()
    unit = BillingUnit.objects.create(
        name="Globex Ltd", category=category, value="Globex Ltd", legal_name="Globex Ltd",
        address="Globex House, 1 Market Street\nDublin", currency="USD", tax_rate=D("23"),
        plan=plan, end_customer=globex,
    )  # fmt: skip
    invoice_drafts_create(period=last_month)
    invoice = invoice_issue(actor=None, invoice=Invoice.objects.get(unit=unit))
    view = billing_view_create(
        actor=admin_a,
        name="Globex spend",
        payers=[Account.objects.get(account_id=SUBSIDIARY_PAYER)],
        shared_with=[customer],
    )
    billing_view_create(actor=admin_a, name="Everything", shared_with=[admin_a])
    return Estate(customer, globex, invoice, view, this_month, last_month)


# Walking every address --------------------------------------------------------------

# The rows whose ids fill a URL's parameters; a URL not named here is tried with the ids
# of every one of these rows.
ROWS_BY_NAME_PREFIX: list[tuple[str, Any]] = [
    ("user-", User), ("audit-", AuditEntry), ("organization-", Organization),
    ("ou-", OrganizationalUnit), ("account-", Account), ("transfer-", BillingTransfer),
    ("billingview-", BillingView), ("team-", Team), ("endcustomer-", EndCustomer),
    ("ingest-", IngestJob), ("tagkey-", TagKey), ("allocation-run", AllocationRun),
    ("allocation-explain", AllocationRun), ("allocation-", CostCategory),
    ("costcategory-", CostCategory), ("allocationrun-", AllocationRun),
    ("invoice-run", InvoiceRun), ("invoicerun-", InvoiceRun), ("api-invoice-run", InvoiceRun),
    ("invoice-unit", BillingUnit), ("billingunit-", BillingUnit),
    ("invoice-plan", PricingPlan), ("pricingplan-", PricingPlan),
    ("invoice-", Invoice), ("api-invoice-", Invoice),
]  # fmt: skip
# Addresses that take no row id and show no figures.
NOT_WALKED = {"customer-set-password", "logout"}


def _named_routes() -> dict[str, list[str]]:
    """Each URL name of the tenant site with the names of its parameters."""
    found: dict[str, list[str]] = {}

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names = [n for n in _parameters(pattern) if n != "format"]
                found.setdefault(pattern.name, names)

    walk(get_resolver("portal.urls_tenant").url_patterns)
    return found


def _parameters(pattern: URLPattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    return list(pattern.pattern.regex.groupindex)


def _ids_for(name: str) -> list[int]:
    for prefix, model in ROWS_BY_NAME_PREFIX:
        if name.startswith(prefix):
            return list(model.objects.values_list("pk", flat=True))
    models = {model for _, model in ROWS_BY_NAME_PREFIX}
    return sorted({pk for model in models for pk in model.objects.values_list("pk", flat=True)})


def every_address() -> list[str]:
    addresses = []
    for name, parameters in sorted(_named_routes().items()):
        if name in NOT_WALKED:
            continue
        if not parameters:
            addresses.append(reverse(name))
            continue
        users = list(User.objects.values_list("pk", flat=True))
        for pk in _ids_for(name):
            values = (
                [{"pk": pk}]
                if parameters == ["pk"]
                else [{"pk": pk, "user_id": user} for user in users]
            )
            addresses += [reverse(name, kwargs=kwargs) for kwargs in values]
    return addresses


def cost_questions(estate: Estate, dimensions: list[str]) -> list[str]:
    """The cost explorer's page and API asked every way an end customer might."""
    months = [
        f"start={estate.this_month}&end={add_months(estate.this_month, 1)}",
        f"start={estate.last_month}&end={estate.this_month}&granularity=monthly",
    ]
    asked = []
    for period in months:
        for metric in METRICS:
            for dimension in dimensions:
                query = f"{period}&metric={metric}&group_by={dimension}"
                asked += [f"/api/v1/costs/?{query}", f"/api/v1/costs.csv?{query}",
                          f"/costs/?{query}"]  # fmt: skip
            asked.append(f"/api/v1/costs/?{period}&metric={metric}&view={estate.view.pk}")
        asked += [f"/api/v1/costs/values/?{period}&dimension={d}" for d in dimensions]
    return [*asked, f"/org/billing-views/{estate.view.pk}/", f"/costs/?view={estate.view.pk}"]


def body_text(response: Any) -> str:
    """What the user reads in the response: a PDF's text, a zip's documents, else the body;
    thousands separators taken out."""
    kind = response.get("Content-Type", "")
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("application/pdf"):
        text = pdf_text(data)
    elif kind.startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = "\n".join(
                pdf_text(archive.read(n)) if n.endswith(".pdf") else archive.read(n).decode()
                for n in archive.namelist()
            )
    else:
        text = data.decode()
    return re.sub(r"(?<=\d)[,\u00a0\u202f](?=\d{3})", "", text)


def wholesale_in(text: str) -> list[str]:
    return [f"{amount} as {m.group(0)}…" for amount, pattern in FORBIDDEN
            if (m := pattern.search(text))]  # fmt: skip


# Tests --------------------------------------------------------------------------------


def test_no_page_or_api_shows_an_end_customer_wholesale_cost_or_margin(
    client_a: TenantClient, estate: Estate
) -> None:
    client_a.force_login(estate.customer)
    options = client_a.get("/api/v1/costs/options/").json()
    dimensions = [d["key"] for d in options["dimensions"]]
    seen: dict[str, int] = {}
    leaks: dict[str, list[str]] = {}

    for address in every_address() + cost_questions(estate, dimensions):
        response = client_a.get(address)
        seen[address] = response.status_code
        assert response.status_code < 500, address
        if response.status_code == 200 and (found := wholesale_in(body_text(response))):
            leaks[address] = found

    assert leaks == {}
    assert [m["key"] for m in options["metrics"]] == ["resale"]
    # The walk reached what the customer reads: not a walk of refusals only.
    invoice = estate.invoice.pk
    for address in ("/", "/costs/", "/invoices/", f"/invoices/{invoice}/",
                    f"/invoices/{invoice}/pdf/", f"/api/v1/invoices/{invoice}/csv/",
                    f"/org/billing-views/{estate.view.pk}/", "/api/v1/billing-views/"):  # fmt: skip
        assert seen[address] == 200, address
    refused = [a for a in seen if "metric=billed_cost" in a and a.startswith("/api/v1/costs/?")]
    assert refused and {seen[a] for a in refused} == {400}


def test_the_customer_reads_resale_where_they_read_their_cost(
    client_a: TenantClient, estate: Estate
) -> None:
    client_a.force_login(estate.customer)
    this_month = f"start={estate.this_month}&end={add_months(estate.this_month, 1)}"

    home = body_text(client_a.get("/"))
    answer = client_a.get(f"/api/v1/costs/?{this_month}&metric=resale&group_by=service").json()
    in_view = client_a.get(f"/api/v1/costs/?{this_month}&metric=resale&view={estate.view.pk}")
    invoice = body_text(client_a.get(f"/invoices/{estate.invoice.pk}/"))
    pdf = body_text(client_a.get(f"/invoices/{estate.invoice.pk}/pdf/"))
    csv = body_text(client_a.get(f"/api/v1/invoices/{estate.invoice.pk}/csv/"))
    view_page = body_text(client_a.get(f"/org/billing-views/{estate.view.pk}/"))

    assert "4165.81 USD" in home  # S3 this month, +12 %
    assert "4332.44 USD" in home  # with the 4 % fee
    groups = {g["key"]: D(g["total"]) for g in answer["groups"] if D(g["total"])}
    assert groups == {S3: RESALE_THIS, "Fee: Managed service": FEE_THIS}
    # A view's filters leave the plan's fee out, as any filter does.
    assert D(in_view.json()["total"]) == RESALE_THIS
    for text in (invoice, pdf):
        assert "6914.08" in text and "276.56" in text
    assert ",6914.08," in csv
    assert "metric=resale" in view_page


def test_the_reseller_sees_the_same_figures_as_wholesale(
    client_a: TenantClient, estate: Estate
) -> None:
    """The figures the walk looks for are the ones a reseller's pages do show."""
    client_a.force_login(User.objects.get(username="alice-admin"))
    this_month = f"start={estate.this_month}&end={add_months(estate.this_month, 1)}"

    billed = client_a.get(f"/api/v1/costs/?{this_month}&group_by=account").json()
    invoice = body_text(client_a.get(f"/invoices/{estate.invoice.pk}/"))

    assert D(billed["total"]) == D(GLOBEX_THIS[0]) + D(ACME_THIS[0])
    assert wholesale_in(invoice)
