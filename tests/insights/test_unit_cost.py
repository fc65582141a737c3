"""Cost per unit: a team's allocated cost of the days with a business metric value over the
sum of those values, on the team page (a table and a chart) and a team lead's home page;
the empty state that tells how to upload; the demo's metrics."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Team
from billing.services.customers import team_create
from insights.metrics import business_metrics_import
from insights.models import BusinessMetric
from insights.unit_cost import teams_unit_cost
from portal.demo.metrics import METRICS, ensure_business_metrics, metric_value
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user
from tests.insights.world import World, build_world

D = Decimal
DASH = "\u2013"  # what a figure without a value shows
# The world's last day with cost up to here is February 10: the last 30 days are January 12
# to February 10, the 30 before December 13 to January 11.
TODAY = date(2026, 2, 10)


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("insights.templatetags.unit_cost.localdate", lambda: TODAY)
    monkeypatch.setattr("insights.views.home.localdate", lambda: TODAY)


@pytest.fixture
def world(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return build_world(tmp_path, monkeypatch)


def web_metrics(world: World) -> None:
    """Web's cost (tagged web): January 5 10.10, January 20 2.50, February 3 20.20."""
    rows = [
        ("2026-01-05", "orders", "4"),  # the 30 days before: 10.10 / 4
        ("2026-01-20", "orders", "2"),  # the last 30 days: (2.50 + 20.20 + 0) / 10
        ("2026-02-03", "orders", "5"),
        ("2026-02-05", "orders", "3"),  # a day without cost counts its units
        ("2026-02-03", "requests", "100000"),  # 20.20 / 100,000: 0.202 per 1,000
    ]
    business_metrics_import(
        actor=world.admin,
        rows_or_file=[
            {"date": d, "team": world.web.name, "metric": m, "value": v} for d, m, v in rows
        ],
    )


def page(client: TenantClient, user: User, path: str) -> tuple[str, str]:
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    source = response.content.decode()
    text = html.unescape(re.sub(r"<[^>]+>", " ", source))
    return source, " ".join(text.split())


def chart(source: str) -> dict[str, Any]:
    found = re.search(r'<script id="unit-cost-data" type="application/json">(.*?)</script>', source)
    assert found, "no unit cost chart"
    return dict(json.loads(found.group(1)))


def row(text: str, metric: str) -> str:
    """The table row of `metric`: from its name up to the next row or the note."""
    found = re.search(rf"\b{metric} (\d+ .*?)(?= requests \d| A period's)", text)
    assert found, text
    return found.group(1)


def test_the_team_page_shows_cost_per_unit_as_cost_over_units(
    client_a: TenantClient, world: World
) -> None:
    web_metrics(world)

    source, text = page(client_a, world.admin, f"/org/teams/{world.web.pk}/")

    assert "Cost per unit Jan 12 to Feb 10, 2026, against the 30 days before" in text
    # 3 days; cost 2.50 + 20.20 + 0; 10 orders; 22.70 / 10; before: 10.10 / 4 = 2.525
    assert row(text, "orders") == ("3 22.70 USD 10 2.27 USD per unit 2.53 USD -10.10 %")
    # 20.20 / 100,000 requests is 0.000202 a request: shown per 1,000, with no month before.
    assert row(text, "requests") == f"1 20.20 USD 100,000 0.20 USD per 1,000 no units {DASH}"
    data = chart(source)
    assert data["currency"] == "USD"
    assert data["dates"][0] == "2025-11-13" and data["dates"][-1] == "2026-02-10"
    assert len(data["dates"]) == 90
    orders = next(m for m in data["metrics"] if m["metric"] == "orders")
    per_day = dict(zip(data["dates"], orders["per_unit"], strict=True))
    assert per_day["2026-01-05"] == "2.525"
    assert per_day["2026-01-20"] == "1.25"
    assert per_day["2026-02-03"] == "4.04"
    assert per_day["2026-02-05"] == "0.00"
    assert per_day["2026-01-06"] is None  # no value that day
    costs = dict(zip(data["dates"], data["cost"], strict=True))
    assert (costs["2026-02-03"], costs["2026-02-05"]) == ("20.20", "0.00")
    assert 'src="/static/insights/unit_cost.js"' in source


def test_the_team_lead_sees_their_team_s_unit_cost_and_may_upload(
    client_a: TenantClient, world: World
) -> None:
    web_metrics(world)

    _, text = page(client_a, world.lead, f"/org/teams/{world.web.pk}/")

    assert row(text, "orders").startswith("3 22.70 USD 10 2.27 USD per unit")
    assert "Upload more values" in text


def test_a_team_without_metrics_tells_how_to_upload(client_a: TenantClient, world: World) -> None:
    source, text = page(client_a, world.admin, f"/org/teams/{world.data.pk}/")

    assert "No business metrics for this team yet." in text
    assert "date,team,metric,value 2026-03-01,Data team,orders,1520" in text
    assert f'action="/costs/teams/{world.data.pk}/metrics/"' in source
    assert "POST /api/v1/business-metrics/" in text
    assert 'href="/api/v1/docs/"' in source

    finance = make_user(Role.FINANCE, "unit-finance")
    source, text = page(client_a, finance, f"/org/teams/{world.data.pk}/")
    assert "No business metrics for this team yet." in text
    assert "The team's leads and admins upload them." in text
    assert "/metrics/" not in re.sub(r"/api/v1/business-metrics/", "", source)


def test_an_unbound_team_has_units_but_no_cost_to_divide(
    client_a: TenantClient, world: World
) -> None:
    team = team_create(actor=world.admin, name="Mobile")
    BusinessMetric.objects.create(team=team, metric="sessions", day=date(2026, 2, 1), value=5)

    _, text = page(client_a, world.admin, f"/org/teams/{team.pk}/")

    assert "The team is bound to no cost category value, so it has no cost to divide." in text
    assert f"sessions 1 {DASH} 5 no units" in text


def test_the_team_lead_home_lists_cost_per_unit_of_their_teams(
    client_a: TenantClient, world: World
) -> None:
    web_metrics(world)
    BusinessMetric.objects.create(team=world.data, metric="jobs", day=date(2026, 2, 4), value=8)

    _, text = page(client_a, world.lead, "/")

    section = text.split("Cost per unit Last 30 days to February 10, against the 30 days before")[1]
    assert section.startswith(
        " Team Metric Cost per unit 30 days before Change "
        "Web team orders 2.27 USD per unit 2.53 USD -10.10 % "
        f"requests 0.20 USD per 1,000 no units {DASH}"
    )
    assert "Data team" not in section  # not one of the lead's teams


def test_the_home_unit_costs_take_a_fixed_number_of_queries(world: World) -> None:
    web_metrics(world)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            teams_unit_cost(user=world.admin, today=TODAY)
        return len(queries)

    count()  # the first answer also reads what stays cached
    before = count()
    for n in range(3):
        team = team_create(actor=world.admin, name=f"Extra {n}")
        BusinessMetric.objects.create(team=team, metric="m", day=date(2026, 2, 1), value=1)
    assert count() == before


# The demo -------------------------------------------------------------------------------


def test_the_demo_metrics_are_plausible_and_a_second_load_writes_nothing(tenant_a: Any) -> None:
    admin = make_user(Role.ADMIN, "demo-admin")
    for name in ("Platform", "Data", "Web"):
        team_create(actor=admin, name=name)
    made: list[str] = []
    today = date(2026, 4, 15)

    ensure_business_metrics(actor=admin, today=today, made=made.append)

    days = (today - date(2025, 11, 1)).days  # November 1 to yesterday
    assert BusinessMetric.objects.count() == 3 * days
    assert made == [
        f"business metrics: {days} days of Platform requests, {days} days of Data "
        f"rows_processed, {days} days of Web orders"
    ]
    web = Team.objects.get(name="Web")
    orders = dict(
        BusinessMetric.objects.filter(team=web, metric="orders").values_list("day", "value")
    )
    spec = next(s for s in METRICS if s.team == "Web")
    assert orders[date(2026, 3, 2)] == metric_value(spec, date(2026, 3, 2))
    assert 1_000 < orders[date(2026, 3, 2)] < 3_000
    # Busier later than earlier (growth), weekends unlike weekdays.
    first_weeks = sum(orders[date(2025, 11, 3) + timedelta(days=n)] for n in range(28))
    last_weeks = sum(orders[date(2026, 3, 16) + timedelta(days=n)] for n in range(28))
    assert last_weeks > first_weeks

    made.clear()
    ensure_business_metrics(actor=admin, today=today, made=made.append)
    assert made == []
    ensure_business_metrics(actor=admin, today=today + timedelta(days=1), made=made.append)
    assert made == [
        "business metrics: 1 day of Platform requests, 1 day of Data rows_processed, "
        "1 day of Web orders"
    ]
    assert (
        orders[date(2026, 3, 2)]
        == BusinessMetric.objects.get(team=web, metric="orders", day=date(2026, 3, 2)).value
    )
