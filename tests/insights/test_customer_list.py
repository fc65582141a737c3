"""The end-customer list: this month's (to date) and last month's wholesale, resale and
margin of each customer, as the cost explorer answers them, sortable by each column."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.models import CostCategory
from billing.models import EndCustomer
from billing.services.customers import end_customer_create
from insights.customers import CustomerFigures, MonthMoney, customer_figures, sort_lines
from invoices.models import BillingUnit, PlanCharge, PriceRule, PricingPlan
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user
from tests.insights.world import A2, A3, World, account, build_world

D = Decimal
TODAY = date(2026, 2, 15)
THIS_MONTH = ("2026-02-01", "2026-02-16")  # to date: the 1st up to and including today
LAST_MONTH = ("2026-01-01", "2026-02-01")


@pytest.fixture
def world(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """Globex (A1, +20 % EC2 box usage, -5 % S3, +10 % else), Initech (A2) without a plan,
    Hooli (A3) at +50 % of its effective cost plus a 5.00 monthly fee."""
    world = build_world(tmp_path, monkeypatch)
    end_customer_create(actor=None, legal_name="Initech", accounts=[account(A2)])
    hooli = end_customer_create(actor=None, legal_name="Hooli", accounts=[account(A3)])
    plan = PricingPlan.objects.create(name="Hooli plan", cost_basis="effective_cost")
    PriceRule.objects.create(plan=plan, scope="global", percent=D("50"))
    PlanCharge.objects.create(
        plan=plan,
        kind="fee",
        description="Support",
        basis="flat",
        amount=D("5.00"),
        first_month=date(2026, 1, 1),
    )
    BillingUnit.objects.create(
        name="Hooli", category=CostCategory.objects.get(name="Customer"), value="Hooli",
        legal_name="Hooli", plan=plan, end_customer=hooli,
    )  # fmt: skip
    monkeypatch.setattr("insights.views.customers.localdate", lambda: TODAY)
    return world


@pytest.fixture
def reseller(world: World) -> User:
    return make_user(Role.RESELLER_ADMIN, "rita-reseller")


def page(client: TenantClient, user: User, **params: str) -> str:
    client.force_login(user)
    response = client.get("/org/end-customers/", params)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def explorer_total(client: TenantClient, metric: str, customer: str, month: tuple[str, str]) -> D:
    """The customer's total of `metric` in the explorer API, as the same user asks it."""
    start, end = month
    response = client.get(
        "/api/v1/costs/",
        {"start": start, "end": end, "metric": metric, "group_by": "end_customer"},
    )
    assert response.status_code == 200, response.content
    totals = {group["key"]: D(group["total"]) for group in response.json()["groups"]}
    return totals.get(customer, D(0))


def figures(user: User) -> CustomerFigures:
    customers = list(EndCustomer.objects.order_by("legal_name"))
    return customer_figures(user=user, customers=customers, today=TODAY)


def test_the_list_figures_are_the_explorers_for_each_customer_and_month(
    client_a: TenantClient, reseller: User
) -> None:
    client_a.force_login(reseller)
    found = figures(reseller)

    assert (found.currency, found.this_month, found.last_month) == (
        "USD", (date(2026, 2, 1), date(2026, 2, 16)), (date(2026, 1, 1), date(2026, 2, 1)),
    )  # fmt: skip
    for line in found.lines:
        name = line.customer.legal_name
        for money, month in ((line.this_month, THIS_MONTH), (line.last_month, LAST_MONTH)):
            if line.plan:
                resale = explorer_total(client_a, "resale", name, month)
                margin = explorer_total(client_a, "margin", name, month)
                assert (money.resale, money.margin) == (resale, margin), (name, month)
                assert money.wholesale == resale - margin
            else:
                assert money.resale is None and money.margin is None
                billed = explorer_total(client_a, "billed_cost", name, month)
                assert money.wholesale == billed, (name, month)


def test_known_figures_with_the_margin_in_percent_of_the_resale(reseller: User) -> None:
    lines = {line.customer.legal_name: line for line in figures(reseller).lines}

    globex, hooli, initech = lines["Globex"], lines["Hooli"], lines["Initech"]
    # February to the 15th: EC2 box usage 20.20 at +20 %, S3 4.00 at -5 %.
    assert globex.this_month == MonthMoney(
        wholesale=D("24.20"), resale=D("28.04"), margin=D("3.84")
    )
    assert globex.this_month.margin_percent == D("13.69")  # 13.6947...
    # January: EC2 10.10 at +20 %, S3 5.05 at -5 %.
    assert globex.last_month == MonthMoney(
        wholesale=D("15.15"), resale=D("16.9175"), margin=D("1.7675")
    )
    assert globex.last_month.margin_percent == D("10.45")  # 10.4478...
    # RDS 7.77 at +50 % and the 5.00 fee: all of the fee is margin, none of it wholesale.
    assert hooli.this_month == MonthMoney(
        wholesale=D("7.77"), resale=D("16.655"), margin=D("8.885")
    )
    assert hooli.this_month.margin_percent == D("53.35")  # 53.3473...
    assert hooli.last_month == MonthMoney(wholesale=D("0"), resale=D("5.00"), margin=D("5.00"))
    assert hooli.last_month.margin_percent == D("100.00")
    assert (initech.plan, initech.this_month, initech.last_month) == (
        "", MonthMoney(wholesale=D("-1.00")), MonthMoney(wholesale=D("3.61")),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("margin", "resale", "percent"),
    [
        ("1", "3", "33.33"),
        ("2", "3", "66.67"),
        ("0.00125", "1", "0.13"),  # half up, as amounts are shown, not half to even
        ("-0.5", "4", "-12.50"),
        ("1", "0", None),  # no resale: no percent
    ],
)
def test_the_margin_percent_is_right_to_the_cent(
    margin: str, resale: str, percent: str | None
) -> None:
    money = MonthMoney(wholesale=D(resale) - D(margin), resale=D(resale), margin=D(margin))
    assert money.margin_percent == (D(percent) if percent else None)


def test_the_page_shows_the_figures_rounded_with_this_month_to_date(
    client_a: TenantClient, reseller: User
) -> None:
    text = page(client_a, reseller)

    heading = 'This month <span class="to-date">to date</span> <small>1\N{EN DASH}15 Feb 2026'
    assert f"{heading} · USD" in text
    assert "Last month <small>January 2026 · USD" in text
    globex = text[text.index(">Globex<") : text.index(">Hooli<")]
    for shown in ("24.20", "28.04", "3.84", "13.69 %", "15.15", "16.92", "1.77", "10.45 %"):
        assert shown in globex, shown
    assert "Globex plan" in globex
    initech = text[text.index(">Initech<") :]
    assert initech.count("no pricing plan") == 3  # its facts line, and each month's resale
    assert "-1.00" in initech and "3.61" in initech
    # All customers: wholesale of all, resale and margin of the priced ones.
    footer = text[text.index("<tfoot>") :]
    for shown in ("All 3 end customers", "30.97", "44.70", "12.73", "28.47 %"):
        assert shown in footer, shown


def order(text: str) -> list[str]:
    return [name for name in re.findall(r'class="customer-name">([^<]+)<', text)]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Globex", "Hooli", "Initech"]),
        ("-name", ["Initech", "Hooli", "Globex"]),
        ("-resale", ["Globex", "Hooli", "Initech"]),  # no plan, no resale: last
        ("resale", ["Hooli", "Globex", "Initech"]),
        ("wholesale", ["Initech", "Hooli", "Globex"]),
        ("-margin_percent", ["Hooli", "Globex", "Initech"]),
        ("last_wholesale", ["Hooli", "Initech", "Globex"]),
        ("-last_margin", ["Hooli", "Globex", "Initech"]),
        ("nonsense", ["Globex", "Hooli", "Initech"]),
    ],
)
def test_sorting_by_each_column(
    client_a: TenantClient, reseller: User, sort: str, expected: list[str]
) -> None:
    params = {"sort": sort} if sort else {}
    assert order(page(client_a, reseller, **params)) == expected


def test_a_sorted_column_says_so_and_its_next_click_reverses_it(
    client_a: TenantClient, reseller: User
) -> None:
    text = page(client_a, reseller, sort="-resale")

    assert 'aria-sort="descending"><a class="sort" href="?sort=resale">Resale' in text
    assert 'href="?sort=-last_resale">Resale' in text  # another column: largest first


def test_sort_lines_keeps_customers_without_a_figure_last_both_ways(reseller: User) -> None:
    lines = figures(reseller).lines
    for sort in ("margin", "-margin", "last_margin_percent", "-last_margin_percent"):
        assert sort_lines(lines, sort)[-1].customer.legal_name == "Initech", sort


def test_finance_sees_the_figures_and_no_new_button(client_a: TenantClient, world: World) -> None:
    text = page(client_a, make_user(Role.FINANCE, "fin"))
    assert "28.04" in text
    assert "New end customer" not in text


def test_an_end_customer_sees_its_own_customer_without_wholesale_or_margin(
    client_a: TenantClient, world: World
) -> None:
    text = page(client_a, world.customer)

    assert ">Globex<" in text and "Initech" not in text
    assert "Wholesale" not in text and "Margin" not in text and "28.04" not in text


def test_a_team_lead_sees_no_customer(client_a: TenantClient, world: World) -> None:
    text = page(client_a, world.lead)
    assert "Globex" not in text and "Wholesale" not in text


def test_without_a_plan_the_list_says_how_to_get_resale(
    client_a: TenantClient, reseller: User
) -> None:
    BillingUnit.objects.update(plan=None)
    text = page(client_a, reseller)
    assert "No end customer has a pricing plan yet" in text
    assert "Billing units" in text
    assert text.count("no pricing plan") == 9


def test_the_empty_list_says_what_to_do(client_a: TenantClient, tenant_a: Any) -> None:
    text = page(client_a, make_user(Role.RESELLER_ADMIN, "new-reseller"))
    assert "No end customers yet" in text
    assert "New end customer</a> and choose its payers or accounts" in text
