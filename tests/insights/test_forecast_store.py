"""Stored forecasts computed from an ingested quarter of daily cost: the tenant, each team,
billing unit and service, daily and monthly, with backtests; reasons where the history is
too short; a second run replaces the first."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.models import CostCategory
from billing.models import Team
from billing.services.customers import team_create
from insights.forecasts.store import forecasts_compute
from insights.models import StoredForecast
from insights.services import team_cost_binding_set
from invoices.models import BillingUnit
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import make_user

D = Decimal
FIRST, LAST = date(2026, 1, 1), date(2026, 3, 31)
TODAY = date(2026, 4, 1)  # cost through March 31 counts
MONTHS = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
BEDROCK_FROM = date(2026, 3, 20)  # a service of 12 days


def cost(day: date, service: str, billed: Decimal, team: str) -> dict[str, Any]:
    month = day.replace(day=1)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return line(
        billing_period_start=month.isoformat(),
        billing_period_end=following.isoformat(),
        charge_period_start=f"{day}T00:00:00Z",
        charge_period_end=f"{day}T01:00:00Z",
        service_name=service,
        billed_cost=str(billed),
        effective_cost=str(billed),
        list_cost=str(billed),
        tags=json.dumps({"team": team}),
    )


def daily_rows() -> list[dict[str, Any]]:
    """EC2 (team web) rising from 100 a day, 30 less at weekends; S3 (team data) about 40;
    Bedrock (web) 25 a day from March 20."""
    noise = random.Random(16)
    rows = []
    for index in range((LAST - FIRST).days + 1):
        day = FIRST + timedelta(days=index)
        ec2 = 100 + index * 0.5 - (30 if day.weekday() >= 5 else 0) + noise.gauss(0, 3)
        rows.append(cost(day, "Amazon EC2", D(f"{ec2:.2f}"), "web"))
        rows.append(cost(day, "Amazon S3", D(f"{40 + noise.gauss(0, 1):.2f}"), "data"))
        if day >= BEDROCK_FROM:
            rows.append(cost(day, "Amazon Bedrock", D("25.00"), "web"))
    return rows


@dataclass
class Quarter:
    web: Team
    data: Team
    ops: Team
    unit: BillingUnit
    category: CostCategory
    lead: User


def build_quarter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Quarter:
    from billing.models import TagKey

    TagKey.objects.create(name="team")
    ingest(use_fake_files(tmp_path, monkeypatch), daily_rows(), name="quarter.csv")
    category = category_with(
        "Team",
        [
            regular("Web", cond("tag", "equals", "web", key="team")),
            regular("Data", cond("tag", "equals", "data", key="team")),
        ],
        default_value="Shared",
    )
    for month in MONTHS:
        run(category, month)
    lead = make_user(Role.TEAM_LEAD, "forecast-lead")
    web = team_create(actor=None, name="Web team", leads=[lead])
    data = team_create(actor=None, name="Data team")
    ops = team_create(actor=None, name="Ops team")  # bound to nothing
    team_cost_binding_set(actor=None, team=web, category=category, value="Web")
    team_cost_binding_set(actor=None, team=data, category=category, value="Data")
    unit = BillingUnit.objects.create(
        name="Web unit", category=category, value="Web", legal_name="Web Ltd"
    )
    return Quarter(web, data, ops, unit, category, lead)


@pytest.fixture
def quarter(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Quarter:
    return build_quarter(tmp_path, monkeypatch)


def stored(scope: str, key: str, frequency: str) -> StoredForecast:
    return StoredForecast.objects.get(scope=scope, key=key, frequency=frequency)


def day_sum(rows: list[dict[str, Any]], day: date, services: set[str] | None = None) -> Decimal:
    return sum(
        (
            D(row["billed_cost"])
            for row in rows
            if row["charge_period_start"].startswith(day.isoformat())
            and (services is None or row["service_name"] in services)
        ),
        D(0),
    )


def test_every_series_is_forecast_daily_and_monthly_with_its_backtest(quarter: Quarter) -> None:
    forecasts_compute(TODAY)

    keys = sorted(StoredForecast.objects.values_list("scope", "label", "frequency"))
    series = [
        ("billing_unit", "Web unit"),
        ("service", "Amazon Bedrock"),
        ("service", "Amazon EC2"),
        ("service", "Amazon S3"),
        ("team", "Data team"),
        ("team", "Ops team"),
        ("team", "Web team"),
        ("tenant", "All costs"),
    ]
    assert keys == sorted((s, label, f) for s, label in series for f in ("daily", "monthly"))

    # The tenant's next 92 days, from the day after the last one loaded
    tenant = stored("tenant", "", "daily")
    assert tenant.reason == ""
    assert [p["date"] for p in tenant.points[:2]] == ["2026-04-01", "2026-04-02"]
    assert len(tenant.points) == 92
    assert tenant.currency == "USD"
    assert "weekly seasonality" in tenant.method
    assert tenant.history_to == LAST
    assert tenant.mape is not None and tenant.mape < 10
    assert tenant.backtest_note == "forecast of the last 28 days from the ones before"
    # About what the last weeks cost a day (EC2 about 145, S3 40, Bedrock 25)
    rows = daily_rows()
    last_week = sum((day_sum(rows, LAST - timedelta(days=i)) for i in range(7)), D(0)) / 7
    expected = [D(p["expected"]) for p in tenant.points[:7]]
    assert abs(sum(expected, D(0)) / 7 - last_week) < last_week * D("0.1")
    for point in tenant.points:
        assert D(point["lower95"]) <= D(point["lower80"]) <= D(point["expected"])
        assert D(point["expected"]) <= D(point["upper80"]) <= D(point["upper95"])
        assert D(point["expected"]).as_tuple().exponent == -2

    # Monthly: January to March are whole months, this month is the first forecast
    monthly = stored("tenant", "", "monthly")
    assert [p["date"] for p in monthly.points[:2]] == ["2026-04-01", "2026-05-01"]
    assert len(monthly.points) == 18
    assert (monthly.history_from, monthly.history_to) == (date(2026, 1, 1), date(2026, 3, 1))
    assert monthly.mape is None
    assert monthly.backtest_note == (
        "holding back 3 months needs a longer history; 3 months are loaded"
    )

    # The web team's cost is its allocated value's: EC2 and Bedrock
    web = stored("team", str(quarter.web.pk), "daily")
    assert web.team == quarter.web and web.label == "Web team"
    assert web.history_from == FIRST
    first_week = [D(p["expected"]) for p in web.points[:7]]
    web_last_week = (
        sum(
            (day_sum(rows, LAST - timedelta(days=i), {"Amazon EC2", "Amazon Bedrock"})
             for i in range(7)),
            D(0),
        )
        / 7
    )  # fmt: skip
    assert abs(sum(first_week, D(0)) / 7 - web_last_week) < web_last_week * D("0.1")
    unit = stored("billing_unit", str(quarter.unit.pk), "daily")
    assert unit.team is None and unit.points == web.points
    assert stored("service", "Amazon S3", "daily").points[0]["expected"].startswith("4")


def test_too_short_a_history_stores_the_reason(quarter: Quarter) -> None:
    forecasts_compute(TODAY)

    bedrock = stored("service", "Amazon Bedrock", "daily")
    assert bedrock.points == []
    assert bedrock.reason == "needs at least one full month of history; 12 days are loaded"
    assert (bedrock.history_from, bedrock.history_to) == (BEDROCK_FROM, LAST)
    assert stored("service", "Amazon Bedrock", "monthly").reason == (
        "needs at least one full month of history; no months are loaded"
    )
    ops = stored("team", str(quarter.ops.pk), "daily")
    assert ops.points == [] and ops.team == quarter.ops
    assert ops.reason == "no cost is the team's yet: it is bound to no value of a cost category"

    # Two months loaded (as on March 1): a daily forecast, no monthly one
    forecasts_compute(date(2026, 3, 1))
    tenant = stored("tenant", "", "daily")
    assert tenant.history_to == date(2026, 2, 28) and len(tenant.points) == 92
    assert stored("tenant", "", "monthly").reason == (
        "a monthly forecast needs at least 3 full months of history; 2 months are loaded"
    )


def test_a_second_run_replaces_the_first_and_drops_series_gone(quarter: Quarter) -> None:
    first = forecasts_compute(TODAY)
    ids = set(StoredForecast.objects.values_list("pk", flat=True))

    second = forecasts_compute(TODAY)

    assert len(first) == len(second) == 16
    assert set(StoredForecast.objects.values_list("pk", flat=True)) == ids
    assert {row.pk for row in second} == ids

    quarter.unit.delete()
    quarter.ops.delete()
    forecasts_compute(TODAY)
    assert StoredForecast.objects.count() == 12
    assert not StoredForecast.objects.filter(scope="billing_unit").exists()

    entries = AuditEntry.objects.filter(action="forecast.compute").order_by("pk")
    assert entries.count() == 3
    last = entries.last()
    assert last is not None and last.after is not None
    assert last.after["series"] == {"tenant": 1, "service": 3, "team": 2}
    assert last.after["removed"] == 2  # the unit's (the team's went with the team)
    # Tenant, EC2, S3 and both teams, daily and monthly; not Bedrock's 12 days
    assert last.after["forecasts"] == 10
    assert last.after["without_forecast"] == 2
    assert last.actor_name == "forecast computation"


def test_the_task_computes_the_tenants_forecasts(quarter: Quarter) -> None:
    from insights.forecasts.tasks import compute_forecasts

    assert compute_forecasts("alpha", TODAY.isoformat()) == 16
    assert compute_forecasts.name == "insights.tasks.compute_forecasts"
    assert StoredForecast.objects.count() == 16


def test_a_budgets_forecast_is_its_cost_so_far_and_the_forecast_of_the_days_to_come(
    quarter: Quarter,
) -> None:
    from insights.budgets.spend import budget_spend
    from insights.models import Budget

    budget = Budget.objects.create(name="Web", amount=D("5000"), scope="team", team=quarter.web)
    rows = daily_rows()
    web = {"Amazon EC2", "Amazon Bedrock"}

    # March 1 to 15 are loaded (as on March 16); 16 days to go
    spend = budget_spend(budget, date(2026, 3, 16))

    so_far = sum((day_sum(rows, date(2026, 3, d), web) for d in range(1, 16)), D(0))
    assert spend.actual == so_far
    # EC2 costs 137 a working day on March 16 (107 at weekends), rising half a unit a day:
    # 2,132 for March 16 to 31 (Bedrock, from March 20, is not in the history yet)
    assert spend.forecast is not None
    to_come = spend.forecast - spend.actual
    assert abs(to_come - D(2132)) < 100
    assert spend.forecast != so_far * 31 / 15
