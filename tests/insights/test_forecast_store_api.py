"""Stored forecasts in the API and on the pages: who reads which, and the team page's chart
with its backtest error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.forecasts.store import forecasts_compute
from portal.users.models import Role, User
from tests.conftest import Api, TenantClient, make_user
from tests.insights.test_forecast_store import TODAY, Quarter, build_quarter


@pytest.fixture
def computed(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Quarter:
    quarter = build_quarter(tmp_path, monkeypatch)
    forecasts_compute(TODAY)
    return quarter


def listed(api: Api, **params: str) -> list[dict[str, Any]]:
    response = api.get("forecasts/", params)
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def test_admins_read_every_series_with_points_backtest_and_reasons(
    computed: Quarter, client_a: TenantClient
) -> None:
    api = Api(client_a, make_user(Role.FINANCE, "forecast-finance"))

    everything = listed(api)
    assert len(everything) == 16
    [tenant] = listed(api, scope="tenant", frequency="daily")
    assert tenant["label"] == "All costs" and tenant["currency"] == "USD"
    assert len(tenant["points"]) == 92
    assert set(tenant["points"][0]) == {
        "date", "expected", "lower80", "upper80", "lower95", "upper95",
    }  # fmt: skip
    assert tenant["points"][0]["date"] == "2026-04-01"
    assert tenant["mape"] is not None and tenant["reason"] == ""
    assert tenant["backtest_note"] == "forecast of the last 28 days from the ones before"
    assert tenant["history_to"] == "2026-03-31"

    [bedrock] = listed(api, scope="service", key="Amazon Bedrock", frequency="daily")
    assert bedrock["points"] == []
    assert bedrock["reason"] == "needs at least one full month of history; 12 days are loaded"
    [unit] = listed(api, scope="billing_unit", key=str(computed.unit.pk), frequency="monthly")
    assert unit["label"] == "Web unit" and len(unit["points"]) == 18

    refused = api.get("forecasts/", {"scope": "everything"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "scope"


def test_a_team_lead_reads_only_their_teams_forecasts(
    computed: Quarter, client_a: TenantClient
) -> None:
    api = Api(client_a, computed.lead)

    mine = listed(api)
    assert {(row["label"], row["frequency"]) for row in mine} == {
        ("Web team", "daily"),
        ("Web team", "monthly"),
    }
    assert mine[0]["team"] == computed.web.pk and mine[0]["team_name"] == "Web team"
    assert listed(api, scope="team", key=str(computed.data.pk)) == []
    assert listed(api, scope="tenant") == []
    assert listed(api, scope="service") == []


def test_end_customers_read_no_forecasts(computed: Quarter, client_a: TenantClient) -> None:
    api = Api(client_a, make_user(Role.END_CUSTOMER, "forecast-customer"))
    assert api.get("forecasts/").status_code == 403


def test_the_list_reads_a_constant_number_of_queries(
    computed: Quarter, client_a: TenantClient, admin_a: User
) -> None:
    api = Api(client_a, admin_a)
    with CaptureQueriesContext(connection) as queries:
        assert len(listed(api)) == 16
    assert len(queries) <= 8


def test_the_team_page_shows_its_forecast_with_the_backtest_error(
    computed: Quarter, client_a: TenantClient
) -> None:
    client_a.force_login(computed.lead)

    page = client_a.get(reverse("team-detail", args=[computed.web.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "data-forecast-card" in text
    mape = computed.web.forecasts.get(frequency="daily").mape
    assert f"Backtest error {mape} %" in text
    assert "forecast of the last 28 days from the ones before" in text
    assert "Method: local linear trend with weekly seasonality" in text
    # Three months loaded: a monthly forecast, whose backtest needs more
    assert "No backtest error: holding back 3 months needs a longer history" in text
    assert "insights/forecast_chart.js" in text


def test_a_team_without_forecasts_says_when_they_come(
    tenant_a: Any, client_a: TenantClient, admin_a: User
) -> None:
    from billing.services.customers import team_create

    team = team_create(actor=None, name="New team")
    client_a.force_login(admin_a)

    text = client_a.get(reverse("team-detail", args=[team.pk])).content.decode()

    assert "forecasts are computed nightly and after each ingest of a bill" in text


def test_the_explorer_shows_the_tenants_forecast_card_to_admins_only(
    computed: Quarter, client_a: TenantClient, admin_a: User
) -> None:
    client_a.force_login(admin_a)
    page = client_a.get(reverse("cost-explorer")).content.decode()
    assert "data-forecast-card" in page and "scope=tenant" in page

    client_a.force_login(computed.lead)
    assert "data-forecast-card" not in client_a.get(reverse("cost-explorer")).content.decode()
