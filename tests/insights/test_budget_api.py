"""Budgets in the REST API: spend figures with each budget, writes by admins and finance
through the services, refusals naming the field, and a team lead's view of their teams'."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from insights.budgets.check import budget_check
from insights.models import Budget, BudgetThreshold
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.allocation.run_helpers import ingest, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import Api, TenantClient, make_user
from tests.insights.world import build_world

D = Decimal
TODAY = date(2026, 1, 20)  # cost of 1-19 January counts


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("insights.budgets.apis.localdate", lambda: TODAY)


@pytest.fixture
def spent(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Budget:
    """95.375 USD of January cost against a budget of 100."""
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, [line(billed_cost="60.25"), line(service_name="Amazon S3", billed_cost="35.125")])
    budget = Budget.objects.create(name="Everything", amount=D("100"))
    BudgetThreshold.objects.create(budget=budget, value=D("90"), basis="actual")
    BudgetThreshold.objects.create(budget=budget, value=D("100"), basis="forecast")
    return budget


@pytest.fixture
def finance(client_a: TenantClient, tenant_a: Any) -> Api:
    return Api(client_a, make_user(Role.FINANCE, "fiona"))


def test_the_list_gives_each_budgets_spend_forecast_and_status(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    body = Api(client_a, admin_a).get("budgets/").json()

    assert body["count"] == 1
    budget = body["results"][0]
    assert (budget["name"], budget["scope"], budget["amount"]) == ("Everything", "tenant", "100.00")
    spend = budget["spend"]
    assert (spend["period_start"], spend["period_end"]) == ("2026-01-01", "2026-02-01")
    assert D(spend["actual"]) == D("95.375")
    assert D(spend["forecast"]) == (D("95.375") * 31 / 19)
    assert (spend["actual_percent"], spend["forecast_percent"]) == ("95.4", "155.6")
    assert (budget["status"], budget["status_text"]) == ("warning", "Past 90 % of actual spend")
    assert [(t["kind"], t["value"], t["basis"]) for t in budget["thresholds"]] == [
        ("percent", "90.00", "actual"),
        ("percent", "100.00", "forecast"),
    ]
    assert budget["latest_alert"] is None


def test_a_budgets_alerts_are_listed_newest_first(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    budget_check(spent, TODAY)
    api = Api(client_a, admin_a)

    alerts = api.get(f"budgets/{spent.pk}/alerts/").json()

    assert alerts["count"] == 2
    assert sorted(a["threshold_text"] for a in alerts["results"]) == [
        "100 % of forecast spend",
        "90 % of actual spend",
    ]
    assert {a["period_start"] for a in alerts["results"]} == {"2026-01-01"}
    assert D(alerts["results"][0]["actual"]) == D("95.375")
    assert api.get(f"budgets/{spent.pk}/").json()["latest_alert"]["id"] in {
        a["id"] for a in alerts["results"]
    }


def test_finance_creates_a_budget_with_thresholds_and_filters(finance: Api, spent: Budget) -> None:
    response = finance.post(
        "budgets/",
        {
            "name": "EC2 monthly",
            "amount": "50",
            "monthly_amounts": {"2026-01": "60"},
            "filters": [{"dimension": "service", "values": ["Amazon EC2"]}],
            "thresholds": [
                {"kind": "percent", "value": "80", "basis": "actual"},
                {"kind": "absolute", "value": "70", "basis": "forecast"},
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    budget = Budget.objects.get(pk=body["id"])
    assert [str(t) for t in budget.thresholds.all()] == [
        "80 % of actual spend",
        "70 of forecast spend",
    ]
    assert budget.filters == [["service", ["Amazon EC2"]]]
    # The month's own amount counts; only the EC2 line (60.25) is this budget's.
    assert body["spend"]["budget_amount"] == "60"
    assert D(body["spend"]["actual"]) == D("60.25")
    assert body["status"] == "over"
    entry = AuditEntry.objects.get(action="budget.create")
    assert entry.actor is not None and entry.actor.username == "fiona"


def test_a_budget_created_without_thresholds_gets_90_actual_and_100_forecast(
    finance: Api,
) -> None:
    body = finance.post("budgets/", {"name": "Plain", "amount": "10"}).json()

    assert [(t["value"], t["basis"]) for t in body["thresholds"]] == [
        ("90.00", "actual"),
        ("100.00", "forecast"),
    ]


def test_a_change_replaces_thresholds_only_when_given(finance: Api, spent: Budget) -> None:
    renamed = finance.patch(f"budgets/{spent.pk}/", {"amount": "200"})
    assert renamed.status_code == 200, renamed.content
    assert len(renamed.json()["thresholds"]) == 2
    assert renamed.json()["spend"]["actual_percent"] == "47.7"

    replaced = finance.patch(
        f"budgets/{spent.pk}/", {"thresholds": [{"value": "150", "basis": "actual"}]}
    )

    assert [t["value"] for t in replaced.json()["thresholds"]] == ["150.00"]
    assert replaced.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "T", "amount": "5", "scope": "team"}, "team"),
        ({"name": "T", "amount": "-5"}, "amount"),
        ({"name": "T", "amount": "NaN"}, "amount"),
        ({"name": "T", "amount": "5", "team": 987654, "scope": "team"}, "team"),
        ({"name": "T", "amount": "5", "thresholds": [{"value": "0"}]}, "thresholds[0].value"),
        ({"name": "T", "amount": "5", "filters": [{"dimension": "planet", "values": ["x"]}]},
         "filters"),
        ({"name": "T", "amount": "5", "monthly_amounts": {"2026-13": "5"}}, "monthly_amounts"),
        ({"name": "T", "amount": "5", "monthly_amounts": {"2026-01": "1e400"}},
         "monthly_amounts"),
        ({"name": "Everything", "amount": "5"}, "name"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field(
    finance: Api, spent: Budget, body: dict[str, Any], field: str
) -> None:
    response = finance.post("budgets/", body)

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field, response.json()
    assert Budget.objects.count() == 1


def test_a_body_that_is_not_json_is_refused_with_415(finance: Api) -> None:
    response = finance.client.post(
        "/api/v1/budgets/", {"name": "T", "amount": "5"}, HTTP_AUTHORIZATION=finance.auth
    )

    assert response.status_code == 415
    assert not Budget.objects.exists()


def test_delete_removes_the_budget_and_is_audited(finance: Api, spent: Budget) -> None:
    response = finance.client.delete(
        f"/api/v1/budgets/{spent.pk}/", HTTP_AUTHORIZATION=finance.auth
    )

    assert response.status_code == 204
    assert not Budget.objects.exists()
    assert AuditEntry.objects.filter(action="budget.delete").exists()


def test_a_team_lead_reads_only_their_teams_budgets_and_writes_none(
    client_a: TenantClient, tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(tmp_path, monkeypatch)
    web = Budget.objects.create(name="Web budget", scope="team", team=world.web, amount=D("10"))
    data = Budget.objects.create(name="Data budget", scope="team", team=world.data, amount=D("9"))
    lead = Api(client_a, world.lead)

    listed = lead.get("budgets/").json()

    assert [b["name"] for b in listed["results"]] == ["Web budget"]
    assert listed["results"][0]["scope_text"] == "Team Web team"
    assert D(listed["results"][0]["spend"]["actual"]) > 0  # the Web team's January cost
    assert lead.get(f"budgets/{web.pk}/").status_code == 200
    assert lead.get(f"budgets/{data.pk}/").status_code == 404
    assert lead.get(f"budgets/{data.pk}/alerts/").status_code == 404
    assert lead.post("budgets/", {"name": "Mine", "amount": "5"}).status_code == 403
    assert lead.patch(f"budgets/{web.pk}/", {"amount": "5"}).status_code == 403
    deleted = lead.client.delete(f"/api/v1/budgets/{web.pk}/", HTTP_AUTHORIZATION=lead.auth)
    assert deleted.status_code == 403
    assert Budget.objects.count() == 2


def test_an_end_customer_gets_403(client_a: TenantClient, tenant_a: Any) -> None:
    customer = Api(client_a, make_user(Role.END_CUSTOMER, "cust"))

    assert customer.get("budgets/").status_code == 403


def test_a_budget_whose_filter_the_explorer_refuses_says_why_instead_of_failing(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    Budget.objects.create(name="Gone", amount=D("5"), filters=[["category:Gone", ["x"]]])

    body = Api(client_a, admin_a).get("budgets/").json()

    gone = next(b for b in body["results"] if b["name"] == "Gone")
    assert gone["spend"] is None and gone["status"] == "unknown"
    assert "category:Gone" in gone["spend_error"]
