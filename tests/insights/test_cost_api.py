"""GET /api/v1/costs/: known answers per dimension, Others, previous period, every scope."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from allocation.models import AllocationResult
from billing.models import LoadedPeriod
from billing.services.views import billing_view_create
from invoices.models import PlanCharge, PricingPlan
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user
from tests.insights.world import A1, A2, A3, FEB, P1, P2, World, build_world

D = Decimal
FEB_MONTH = {"start": "2026-02-01", "end": "2026-03-01"}


@pytest.fixture
def world(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return build_world(tmp_path, monkeypatch)


def ask(client: TenantClient, user: User, **params: Any) -> dict[str, Any]:
    client.force_login(user)
    response = client.get("/api/v1/costs/", {**FEB_MONTH, **params})
    assert response.status_code == 200, response.content
    return dict(response.json())


def by_key(answer: dict[str, Any], field: str = "total") -> dict[str, Decimal]:
    return {group["key"]: D(group[field]) for group in answer["groups"]}


def test_each_dimension_adds_up_to_the_bill_to_the_cent(
    client_a: TenantClient, world: World
) -> None:
    expected = {
        "service": {"Amazon EC2": D("19.20"), "Amazon RDS": D("7.77"), "Amazon S3": D("4.00")},
        "account": {A1: D("24.20"), A3: D("7.77"), A2: D("-1.00")},
        "payer": {P1: D("23.20"), P2: D("7.77")},
        "region": {"us-east-1": D("23.20"), "eu-west-1": D("7.77")},
        # Tax was January's only: a group of the previous period, 0 in this one.
        "charge_category": {"Usage": D("31.97"), "Credit": D("-1.00"), "Tax": D("0")},
        "usage_type": {
            "BoxUsage:m5.large": D("20.20"),
            "InstanceUsage:db.t3": D("7.77"),
            "TimedStorage-ByteHrs": D("4.00"),
            "Credit": D("-1.00"),
            "Tax": D("0"),
        },
        "tag:team": {"web": D("20.20"), "data": D("11.77"), "(none)": D("-1.00")},
        "end_customer": {"Globex": D("24.20"), "(none)": D("6.77")},
    }
    for dimension, totals in expected.items():
        answer = ask(client_a, world.admin, group_by=dimension)
        assert by_key(answer) == totals, dimension
        assert D(answer["total"]) == D("30.97")
        assert answer["currency"] == "USD"


def test_the_previous_period_and_the_change(client_a: TenantClient, world: World) -> None:
    answer = ask(client_a, world.admin, group_by="service")

    assert (answer["previous_start"], answer["previous_end"]) == ("2026-01-01", "2026-02-01")
    assert D(answer["previous_total"]) == D("18.76")
    ec2, rds, s3 = answer["groups"]
    assert (ec2["key"], ec2["previous_total"], ec2["change"], ec2["change_percent"]) == (
        "Amazon EC2", "13.71", "5.49", "40.04",
    )  # fmt: skip
    assert (rds["key"], rds["previous_total"], rds["change_percent"]) == (
        "Amazon RDS",
        "0.00",
        None,
    )
    assert (s3["key"], s3["change"], s3["change_percent"]) == ("Amazon S3", "-1.05", "-20.79")


def test_others_closes_the_total_exactly(client_a: TenantClient, world: World) -> None:
    answer = ask(client_a, world.admin, group_by="service,region", limit=1)

    assert [g["key"] for g in answer["groups"]] == ["Amazon EC2 / us-east-1", "Others"]
    assert [g["keys"] for g in answer["groups"]][1] == ["Others", "Others"]
    assert sum(D(g["total"]) for g in answer["groups"]) == D(answer["total"]) == D("30.97")
    assert sum(D(g["previous_total"]) for g in answer["groups"]) == D("18.76")
    assert D(answer["groups"][1]["total"]) == D("11.77")  # RDS 7.77 + S3 4.00


def test_series_are_dense_and_daily_or_monthly(client_a: TenantClient, world: World) -> None:
    daily = ask(client_a, world.admin, group_by="service", filter="service:Amazon EC2")
    (ec2,) = daily["groups"]
    assert len(ec2["series"]) == 28
    points = {p["date"]: D(p["amount"]) for p in ec2["series"] if D(p["amount"])}
    assert points == {"2026-02-03": D("20.20"), "2026-02-11": D("-1.00")}

    monthly = ask(
        client_a, world.admin, start="2026-01-01", end="2026-03-01", granularity="monthly"
    )
    (total,) = monthly["groups"]
    assert [(p["date"], p["amount"]) for p in total["series"]] == [
        ("2026-01-01", "18.76"),
        ("2026-02-01", "30.97"),
    ]
    assert (monthly["previous_start"], monthly["previous_end"]) == ("2025-11-01", "2026-01-01")


def test_every_summary_gives_the_same_answer(client_a: TenantClient, world: World) -> None:
    """Daily tag cost, the rollup and the monthly cube answer the same question alike."""
    team_daily = ask(client_a, world.admin, group_by="tag:team")
    team_rollup = ask(client_a, world.admin, group_by="tag:team,region")
    team_monthly = ask(client_a, world.admin, group_by="tag:team,region", granularity="monthly")
    for answer in (team_daily, team_rollup, team_monthly):
        web = [g for g in answer["groups"] if g["keys"][0] == "web"]
        assert sum(D(g["total"]) for g in web) == D("20.20")
        assert sum(D(g["previous_total"]) for g in web) == D("12.60")
        assert D(answer["total"]) == D("30.97")


def test_filters_and_excludes_combine(client_a: TenantClient, world: World) -> None:
    answer = ask(
        client_a,
        world.admin,
        group_by="account",
        filter=["service:Amazon EC2", "service:Amazon S3"],
        exclude="tag:team:web",
    )
    assert by_key(answer) == {A1: D("4.00"), A2: D("-1.00")}

    untagged_only = ask(client_a, world.admin, group_by="service", filter="tag:team:(none)")
    assert by_key(untagged_only) == {"Amazon EC2": D("-1.00")}


def test_a_team_lead_sees_only_the_teams_they_lead_splits_included(
    client_a: TenantClient, world: World
) -> None:
    answer = ask(client_a, world.lead, group_by="team")

    web_allocated = AllocationResult.objects.filter(run=world.runs[FEB], value="Web")
    expected = web_allocated.aggregate(t=Sum("billed_cost"))["t"]
    assert by_key(answer) == {"Web team": expected}
    assert expected != D("20.20")  # a share of the untagged credit moved to Web
    assert answer["locked_filters"] == [{"dimension": "team", "values": ["Web team"]}]
    # Asking for another team narrows further instead of widening.
    other = ask(client_a, world.lead, group_by="team", filter="team:Data team")
    assert other["groups"] == [] and other["total"] == "0.00"
    client_a.force_login(world.lead)
    refused = client_a.get("/api/v1/costs/", {**FEB_MONTH, "group_by": "region"})
    assert refused.status_code == 400 and refused.json()["field"] == "group_by"


def test_admins_group_by_team_and_teams_add_up_to_the_bill(
    client_a: TenantClient, world: World
) -> None:
    answer = ask(client_a, world.admin, group_by="team")
    assert set(by_key(answer)) == {"Web team", "Data team"}
    assert D(answer["total"]) == D("30.97")


def test_an_end_customer_sees_its_accounts_at_its_resale_price(
    client_a: TenantClient, world: World
) -> None:
    answer = ask(client_a, world.customer, metric="resale", group_by="service")

    # EC2 BoxUsage 20.20 +20 % = 24.24; S3 4.00 -5 % = 3.80; A2 and A3 are not Globex's.
    assert by_key(answer) == {"Amazon EC2": D("24.24"), "Amazon S3": D("3.80")}
    assert D(answer["total"]) == D("28.04")
    assert D(answer["previous_total"]) == D("16.9175")  # 10.10 * 1.2 + 5.05 * 0.95
    widened = ask(client_a, world.customer, metric="resale", filter=f"account:{A2}")
    assert widened["groups"] == []
    client_a.force_login(world.customer)
    wholesale = client_a.get("/api/v1/costs/", {**FEB_MONTH, "metric": "billed_cost"})
    assert wholesale.status_code == 400 and wholesale.json()["field"] == "metric"
    margin = client_a.get("/api/v1/costs/", {**FEB_MONTH, "metric": "margin"})
    assert margin.status_code == 400


def test_a_reseller_sees_resale_and_margin_where_a_plan_applies(
    client_a: TenantClient, world: World
) -> None:
    reseller = make_user(Role.RESELLER_ADMIN, "world-reseller")
    resale = ask(client_a, reseller, metric="resale", group_by="end_customer")
    margin = ask(client_a, reseller, metric="margin", group_by="end_customer")
    assert by_key(resale) == {"Globex": D("28.04")}
    assert by_key(margin) == {"Globex": D("3.84")}


def test_a_shared_billing_view_shows_its_filter_and_nothing_more(
    client_a: TenantClient, world: World
) -> None:
    reader = make_user(Role.FINANCE, "view-reader")
    outsider = make_user(Role.FINANCE, "view-outsider")
    view = billing_view_create(
        actor=world.admin, name="Storage", services=["Amazon S3"], shared_with=[reader, world.lead]
    )

    for user in (reader, world.lead):
        answer = ask(client_a, user, view=view.pk, group_by="service")
        assert by_key(answer) == {"Amazon S3": D("4.00")}
        assert answer["locked_filters"] == [{"dimension": "service", "values": ["Amazon S3"]}]
    client_a.force_login(outsider)
    assert client_a.get("/api/v1/costs/", {"view": view.pk}).status_code == 404


def test_an_unknown_or_bad_parameter_is_a_400_naming_it(
    client_a: TenantClient, world: World
) -> None:
    client_a.force_login(world.admin)
    cases = {
        "group_by": {"group_by": "colour"},
        "start": {"start": "2026-13-01"},
        "end": {"start": "2020-01-01", "end": "2026-01-01"},
        "filter": {"filter": "service"},
        "metric": {"metric": "profit"},
        "granularity": {"granularity": "hourly"},
        "limit": {"limit": "0"},
    }
    cases["group_by "] = {"group_by": "service,account,region,payer"}
    for field, params in cases.items():
        response = client_a.get("/api/v1/costs/", params)
        assert response.status_code == 400, (field, response.content)
        assert response.json()["field"] == field.strip(), response.json()


def test_the_csv_has_the_same_figures(client_a: TenantClient, world: World) -> None:
    client_a.force_login(world.admin)
    response = client_a.get("/api/v1/costs.csv", {**FEB_MONTH, "group_by": "service"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert "Amazon EC2,2026-02-03,20.20,USD" in text
    assert "Amazon EC2,19.20,13.71,5.49,40.04,USD" in text


def test_values_offer_what_the_data_has_in_scope(client_a: TenantClient, world: World) -> None:
    client_a.force_login(world.customer)
    response = client_a.get("/api/v1/costs/values/", {**FEB_MONTH, "dimension": "account"})
    assert response.json() == {"dimension": "account", "values": [A1]}
    client_a.force_login(world.lead)
    teams = client_a.get("/api/v1/costs/values/", {**FEB_MONTH, "dimension": "team"})
    assert teams.json()["values"] == ["Web team"]


@pytest.mark.parametrize("who", ["admin", "lead", "customer", "view"])
def test_every_scope_asks_a_constant_number_of_queries(
    client_a: TenantClient, world: World, who: str
) -> None:
    user = {"admin": world.admin, "lead": world.lead, "customer": world.customer}.get(who)
    extra: dict[str, Any] = {"metric": "resale"} if who == "customer" else {}
    if who == "view":
        user = make_user(Role.FINANCE, "counted")
        view = billing_view_create(actor=world.admin, name="v", payers=[], shared_with=[user])
        extra["view"] = view.pk
    assert user is not None
    client_a.force_login(user)
    client_a.get("/api/v1/costs/", {**FEB_MONTH, **extra})  # the session's own reads
    group = "team" if who == "lead" else "service"
    counts = []
    for params in (
        {"group_by": group},
        {"group_by": f"{group},account", "granularity": "monthly", "start": "2026-01-01"},
        # Filters leave a plan's fees out of a customer's answer: one statement fewer.
        {"group_by": f"{group},usage_type,account", "limit": 2}
        | ({} if who == "customer" else {"filter": f"account:{A1}"}),
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client_a.get("/api/v1/costs/", {**FEB_MONTH, **extra, **params})
        assert response.status_code == 200, response.content
        # django-tenants sets the search path before each statement: not a query of ours.
        counts.append(sum(not q["sql"].startswith("SET search_path") for q in queries))
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 20, counts


def test_plan_fees_and_credits_are_rows_of_their_own_month(
    client_a: TenantClient, world: World
) -> None:
    plan = PricingPlan.objects.get(name="Globex plan")
    january = FEB.replace(month=1)
    PlanCharge.objects.create(
        plan=plan, kind="fee", description="Managed service", basis="flat", amount=D("50"),
        first_month=january,
    )  # fmt: skip
    PlanCharge.objects.create(
        plan=plan, kind="credit", description="Loyalty", basis="percent", amount=D("10"),
        first_month=FEB, last_month=FEB,
    )  # fmt: skip

    answer = ask(client_a, world.customer, metric="resale", group_by="service")

    assert by_key(answer) == {
        "Amazon EC2": D("24.24"),
        "Amazon S3": D("3.80"),
        "Fee: Managed service": D("50"),
        "Credit: Loyalty": D("-2.804"),
    }
    assert by_key(answer, "previous_total")["Fee: Managed service"] == D("50")
    assert D(answer["total"]) == D("28.04") + D("50") - D("2.804")
    fee = next(g for g in answer["groups"] if g["key"] == "Fee: Managed service")
    assert [p["date"] for p in fee["series"] if D(p["amount"])] == ["2026-02-01"]
    # A fee belongs to no service: filtered by one, the answer has none.
    filtered = ask(client_a, world.customer, metric="resale", filter="service:Amazon S3")
    assert D(filtered["total"]) == D("3.80")


def test_month_to_date_compares_the_same_days_of_last_month(
    client_a: TenantClient, world: World
) -> None:
    answer = ask(client_a, world.admin, start="2026-02-01", end="2026-02-07")

    assert (answer["previous_start"], answer["previous_end"]) == ("2026-01-01", "2026-01-07")
    assert D(answer["total"]) == D("24.20")  # Feb 3 and 4
    assert D(answer["previous_total"]) == D("15.15")  # Jan 5 and 6, not the rest of January


@pytest.mark.parametrize(
    ("dimension", "wider"),
    [
        ("service", "account"),  # day_service against day
        ("account", "usage_type"),  # day_account against day
        ("usage_type", "region"),  # day_usage against day
        ("tag:team", "service"),  # tag against tag_service
        ("tag:team", "account"),  # tag against tag_account
        ("team", "account"),  # allocation summary against the results
        ("team", "service"),  # the summary per value against per service
        ("tag:env", "tag:team"),  # tag against tag_pair
        ("tag:team", "tag:env"),  # the pair's second key
    ],
)
def test_each_grain_answers_like_the_wider_ones(
    client_a: TenantClient, world: World, dimension: str, wider: str
) -> None:
    narrow = by_key(ask(client_a, world.admin, group_by=dimension, limit=100))
    wide = ask(client_a, world.admin, group_by=f"{dimension},{wider}", limit=100)
    summed: dict[str, Decimal] = {}
    for group in wide["groups"]:
        summed[group["keys"][0]] = summed.get(group["keys"][0], D(0)) + D(group["total"])
    assert summed == narrow


def test_one_tag_key_filtered_by_another(client_a: TenantClient, world: World) -> None:
    answer = ask(client_a, world.admin, group_by="tag:env", filter="tag:team:web")
    assert by_key(answer) == {"prod": D("20.20"), "(none)": D("0")}  # January's had no env
    by_pair = ask(client_a, world.admin, group_by="tag:team,tag:env", exclude="tag:env:(none)")
    assert by_key(by_pair) == {"web / prod": D("20.20"), "data / dev": D("4.00")}


def test_bills_in_two_currencies_are_told_apart_by_payer(
    client_a: TenantClient, world: World
) -> None:
    LoadedPeriod.objects.filter(billing_account_id=P2).update(currencies=["EUR"])
    client_a.force_login(world.admin)

    mixed = client_a.get("/api/v1/costs/", FEB_MONTH)
    one = ask(client_a, world.admin, filter=f"payer:{P2}")

    assert mixed.status_code == 400 and mixed.json()["code"] == "mixed_currencies"
    assert "filter by payer" in mixed.json()["message"]
    assert (one["currency"], D(one["total"])) == ("EUR", D("7.77"))
