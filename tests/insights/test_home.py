"""The home page per role: month to date against the same days of last month, the month's
projected end, cost by day, movers, bills loaded, teams, invoices, empty states."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.ingest import pipeline
from billing.models import IngestStatus
from billing.services.customers import team_create
from billing.services.ingests import ingest_job_create
from invoices.models import BillingUnit, Invoice
from portal.users.models import Role, User
from tests.allocation.run_helpers import ingest, use_fake_files
from tests.conftest import TenantClient, make_user
from tests.insights.world import A1, P1, P2, World, build_world, cost

D = Decimal
TODAY = date(2026, 2, 10)  # month to date: Feb 1-10; the same days of last month: Jan 1-10


# The pages ----------------------------------------------------------------------------
# The world (tests/insights/world.py) has January and February 2026. On February 10 the
# month to date is February 1-10 and the same days of last month January 1-10.


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("insights.views.home.localdate", lambda: TODAY)


@pytest.fixture
def world(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return build_world(tmp_path, monkeypatch)


def page(client: TenantClient, user: User) -> tuple[str, str]:
    """The home page as `user` sees it: its HTML, and its text as one spaced line."""
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200, response.status_code
    source = response.content.decode()
    text = html.unescape(re.sub(r"<[^>]+>", " ", source))
    return source, " ".join(text.split())


def chart(source: str) -> dict[str, Any]:
    found = re.search(r'<script id="home-chart" type="application/json">(.*?)</script>', source)
    assert found, "no chart on the page"
    return dict(json.loads(found.group(1)))


def test_admin_sees_the_month_to_date_its_projection_movers_and_bills(
    client_a: TenantClient, world: World
) -> None:
    source, text = page(client_a, world.admin)

    assert "February 1 to February 10, 2026 (today)" in text
    assert "January 1 to January 10" in text
    # 20.20 EC2 + 4.00 S3 + 7.77 RDS, against 10.10 EC2 + 5.05 S3
    assert "Billed cost, month to date 31.97 USD +16.82 USD (+111.02 %)" in text
    assert "Same days last month: 15.15 USD" in text
    # 31.97 / 10 days * 28 days
    assert "Month's end, projected 89.52 USD" in text
    assert "A projection: the run rate of the first 10 days" in text
    services = text.split("Services that moved most")[1].split("Accounts that moved most")[0]
    assert re.findall(r"Amazon \w+", services) == ["Amazon EC2", "Amazon RDS", "Amazon S3"]
    assert "Amazon EC2 20.20 USD +10.10 USD (+100.00 %)" in services
    assert "Amazon RDS 7.77 USD +7.77 USD (none on the same days last month)" in services
    assert "Amazon S3 4.00 USD -1.05 USD (-20.79 %)" in services
    accounts = text.split("Accounts that moved most")[1]
    assert f"{A1}) 24.20 USD +9.05 USD (+59.74 %)" in accounts
    bills = text.split("Bills loaded")[1]
    assert re.findall(r"(20\d\d-\d\d) \d{12}", bills) == ["2026-02", "2026-02", "2026-01"]
    assert f"2026-02 {P1} 3 23.20 USD" in bills and f"2026-02 {P2} 1 7.77 USD" in bills
    assert f"2026-01 {P1} 4 18.76 USD" in bills
    assert re.search(r'href="/costs/ingests/\d+/">ingest #\d+</a>', source)
    answer = chart(source)
    assert (answer["total"], answer["previous_total"], answer["metric"]) == (
        "31.97", "15.15", "billed_cost",
    )  # fmt: skip
    assert [g["key"] for g in answer["groups"]] == ["Amazon EC2", "Amazon RDS", "Amazon S3"]
    assert "insights/charts.js" in source and "vendor/chartjs/chart.umd.min.js" in source
    assert "Resale" not in text  # a reseller admin's


def test_finance_sees_what_an_admin_sees(client_a: TenantClient, world: World) -> None:
    _, text = page(client_a, make_user(Role.FINANCE, "fiona"))

    assert "Billed cost, month to date 31.97 USD +16.82 USD (+111.02 %)" in text
    assert "Services that moved most" in text and "Bills loaded" in text


def test_a_reseller_admin_also_sees_resale_and_margin(client_a: TenantClient, world: World) -> None:
    _, text = page(client_a, make_user(Role.RESELLER_ADMIN, "rita"))

    # Globex's account A1 only is priced: EC2 20.20 * 1.2 + S3 4.00 * 0.95, against
    # 10.10 * 1.2 + 5.05 * 0.95 = 16.9175; the margin is what the price adds.
    assert "Resale, month to date 28.04 USD +11.12 USD (+65.75 %)" in text
    assert "Margin, month to date 3.84 USD +2.07 USD (+117.26 %)" in text
    assert "Billed cost, month to date 31.97 USD" in text


def test_a_reseller_admin_without_pricing_plans_is_told_where_they_come_from(
    client_a: TenantClient, world: World
) -> None:
    BillingUnit.objects.update(plan=None)

    source, text = page(client_a, make_user(Role.RESELLER_ADMIN, "rita"))

    assert "Resale, month to date" not in text
    assert "Resale and margin None yet: they come from pricing plans." in text
    assert 'href="/invoices/units/">billing unit</a>' in source


def test_a_team_lead_sees_their_teams_cost_and_no_bills(
    client_a: TenantClient, world: World
) -> None:
    team_create(actor=None, name="New team", leads=[world.lead])  # bound to no cost yet

    source, text = page(client_a, world.lead)

    # The Web team's allocated cost: EC2 20.20 in February, 10.10 in January.
    assert "Your teams this month" in text
    assert "Billed cost, month to date 20.20 USD +10.10 USD (+100.00 %)" in text
    assert "Month's end, projected 56.56 USD" in text
    answer = chart(source)
    assert [g["key"] for g in answer["groups"]] == ["Web team"]
    assert answer["group_by"] == ["team"]
    services = text.split("Services that moved most")[1]
    assert "Amazon EC2 20.20 USD +10.10 USD (+100.00 %)" in services
    assert "Amazon S3" not in services and "Amazon RDS" not in services  # the Data team's
    assert "Accounts that moved most" not in text
    assert f'<a href="/org/teams/{world.web.pk}/">Web team</a>' in source
    assert "Your teams Team Month to date New team no cost yet Web team 20.20 USD" in text
    assert "Data team" not in text
    assert "Bills loaded" not in text and "No bill loaded" not in text


def test_an_end_customer_sees_its_cost_at_resale_and_its_issued_invoices(
    client_a: TenantClient, world: World
) -> None:
    unit = BillingUnit.objects.get(end_customer=world.globex)
    for n in range(1, 7):
        invoice(unit, f"INV-2026-{n:04d}", date(2026, 1, n), total=f"{n}000.50")
    invoice(unit, None, date(2026, 2, 1), total="99", status="draft")

    source, text = page(client_a, world.customer)

    assert "Your cost this month" in text
    assert "Cost, month to date 28.04 USD +11.12 USD (+65.75 %)" in text
    assert "Month's end, projected 78.51 USD" in text  # 28.04 / 10 * 28
    assert "Billed cost" not in text and "Margin" not in text
    answer = chart(source)
    assert answer["metric"] == "resale"
    assert [g["key"] for g in answer["groups"]] == ["Amazon EC2", "Amazon S3"]
    invoices = text.split("Your latest invoices")[1]
    numbers = re.findall(r"INV-2026-\d+", invoices)
    assert numbers == [f"INV-2026-{n:04d}" for n in (6, 5, 4, 3, 2)]  # newest first, five
    assert "INV-2026-0006 2026-01 Invoice Issued 2026-01-06 6,000.50 USD" in invoices
    last = Invoice.objects.get(number="INV-2026-0006")
    assert f'href="/invoices/{last.pk}/">INV-2026-0006</a>' in source
    assert "99.00" not in invoices  # the draft
    assert "Bills loaded" not in text and "moved most" not in text


def invoice(
    unit: BillingUnit, number: str | None, issued: date, *, total: str, status: str = "issued"
) -> Invoice:
    return Invoice.objects.create(
        unit=unit,
        status=status,
        number=number,
        period=date(2026, 1, 1),
        issue_date=issued if number else None,
        currency="USD",
        cost_basis="billed_cost",
        buyer_name="Globex",
        subtotal=D(total),
        total=D(total),
    )


def test_the_chart_stacks_the_six_largest_services_and_others_with_thousands_grouped(
    client_a: TenantClient, admin_a: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)
    amounts = ["1234.565", "900", "800", "700", "600", "500", "40", "3"]
    ingest(files, [cost("2026-02-02", A1, f"Service {n}", a) for n, a in enumerate(amounts)])

    source, text = page(client_a, admin_a)

    answer = chart(source)
    keys = [group["key"] for group in answer["groups"]]
    assert keys == [*(f"Service {n}" for n in range(6)), "Others"]
    assert answer["groups"][-1]["total"] == "43.00"
    assert "Billed cost, month to date 4,777.57 USD" in text  # 4,777.565 rounded half-up
    assert "Service 0 1,234.57 USD" in text.split("Services that moved most")[1]


@pytest.mark.parametrize(
    ("role", "told"),
    [
        (Role.ADMIN, "No cost loaded for this month yet: upload a bill"),
        (Role.FINANCE, "No cost to show for this month yet."),
        (Role.RESELLER_ADMIN, "No cost to show for this month yet."),
        (Role.TEAM_LEAD, "No cost to show for this month yet."),
        (Role.END_CUSTOMER, "No cost to show for this month yet."),
    ],
)
def test_without_cost_this_month_each_role_is_told_what_to_do(
    client_a: TenantClient, tenant_a: Any, role: str, told: str
) -> None:
    source, text = page(client_a, make_user(role, f"empty-{role}"))

    assert told in text
    assert "month to date" not in text and 'id="home-chart"' not in source
    assert "moved most" not in text
    if role == Role.ADMIN:
        assert '<a href="/costs/ingests/">upload a bill</a>' in source
    if role in (Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN):
        assert "No bill loaded yet." in text
    else:
        assert "Bills loaded" not in text and "No bill loaded" not in text
    if role == Role.TEAM_LEAD:
        assert "You are in no team yet" in text
    if role == Role.END_CUSTOMER:
        assert "No invoice has been issued to you yet." in text


def test_a_month_without_cost_yet_still_lists_the_bills_loaded_before(
    client_a: TenantClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("insights.views.home.localdate", lambda: date(2026, 3, 2))

    _, text = page(client_a, world.admin)

    assert "No cost loaded for this month yet: upload a bill" in text
    assert f"2026-02 {P1} 3 23.20 USD" in text.split("Bills loaded")[1]


def test_what_needs_attention_a_failed_ingest_and_draft_invoices(
    client_a: TenantClient, world: World, tmp_path: Path
) -> None:
    unit = BillingUnit.objects.get(end_customer=world.globex)
    invoice(unit, None, date(2026, 2, 1), total="10", status="draft")
    bad = tmp_path / "bad.csv"
    bad.write_text("not a bill\n")
    job = pipeline.run_ingest(ingest_job_create(actor=None, paths=[bad], enqueue=False).pk)
    assert job.status == IngestStatus.FAILED

    source, text = page(client_a, world.admin)
    _, lead_text = page(client_a, world.lead)

    assert f"Needs attention The latest ingest (#{job.pk}) failed:" in text
    assert f'href="/costs/ingests/{job.pk}/"' in source
    assert "1 draft invoice not issued yet." in text
    assert 'href="/invoices/?status=draft"' in source
    assert "Needs attention" not in lead_text


def _queries(client: TenantClient, user: User) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return sum(not q["sql"].startswith("SET search_path") for q in queries)


def test_each_role_asks_a_constant_number_of_queries(
    client_a: TenantClient, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = {
        Role.ADMIN: world.admin,
        Role.FINANCE: make_user(Role.FINANCE, "fiona"),
        Role.RESELLER_ADMIN: make_user(Role.RESELLER_ADMIN, "rita"),
        Role.TEAM_LEAD: world.lead,
        Role.END_CUSTOMER: world.customer,
    }
    before = {role: _queries(client_a, user) for role, user in users.items()}
    files = use_fake_files(tmp_path / "more", monkeypatch)
    (tmp_path / "more").mkdir()
    more = [
        cost(f"2026-02-0{n}", f"41000000000{n}", f"S{n}", "5", payer="7" * 12) for n in range(1, 10)
    ]
    ingest(files, more, name="more.csv")  # more services, accounts, a payer, bills
    for n in range(3):
        team_create(actor=None, name=f"Extra team {n}", leads=[world.lead])
    unit = BillingUnit.objects.get(end_customer=world.globex)
    for n in range(1, 8):
        invoice(unit, f"INV-2026-{n:04d}", date(2026, 1, n), total="1")

    after = {role: _queries(client_a, user) for role, user in users.items()}

    assert after == before
    assert max(after.values()) <= 42, after  # budgets alerted, anomalies to review: 2
