"""The budget pages: the list's figures and status, one budget's period, the admin and
finance forms, and who sees which budgets."""

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

from insights.budgets.check import budget_check
from insights.models import Budget, BudgetThreshold
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.allocation.run_helpers import ingest, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import TenantClient, make_user
from tests.insights.world import World, build_world

D = Decimal
TODAY = date(2026, 1, 20)  # cost of 1-19 January counts


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("insights.budgets.views.localdate", lambda: TODAY)


def text(response: Any) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def as_user(client: TenantClient, user: User) -> TenantClient:
    client.force_login(user)
    return client


@pytest.fixture
def spent(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Budget:
    """95.375 USD of January cost against a budget of 100 with 90 % actual and 100 %
    forecast thresholds."""
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, [line(billed_cost="60.25"), line(service_name="Amazon S3", billed_cost="35.125")])
    budget = Budget.objects.create(name="Everything", amount=D("100"))
    BudgetThreshold.objects.create(budget=budget, value=D("90"), basis="actual")
    BudgetThreshold.objects.create(budget=budget, value=D("100"), basis="forecast")
    return budget


def test_the_list_shows_the_periods_actual_forecast_and_percent_past_90(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    page = text(as_user(client_a, admin_a).get("/budgets/"))

    assert "Everything Whole tenant" in page
    assert "January 2026 Monthly · day 19 of 31" in page
    assert "100.00 USD" in page
    assert "95.38 USD 95.4 %" in page  # actual so far
    assert "155.61 USD 155.6 %" in page  # 95.375 over 19 days, for 31 days
    assert "Past 90 % of actual spend" in page
    assert "None yet" in page  # no alert before the check runs


def test_the_list_shows_the_latest_alert_once_the_check_fired(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    budget_check(spent, TODAY)

    response = as_user(client_a, admin_a).get("/budgets/")

    assert response.status_code == 200
    row = text(response).split("Latest alert", 1)[1]
    assert " of actual spend" in row or " of forecast spend" in row
    assert "None yet" not in row


def test_a_budget_under_its_thresholds_is_on_track_and_one_past_100_is_over(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    Budget.objects.create(name="Roomy", amount=D("1000"))
    Budget.objects.create(name="Tight", amount=D("50"))

    body = as_user(client_a, admin_a).get("/budgets/").content.decode()

    rows = {name: body.split(f">{name}</a>")[0].rsplit("<tr", 1)[1] for name in ("Roomy", "Tight")}
    assert "budget-ok" in rows["Roomy"]
    assert "budget-over" in rows["Tight"]
    assert "On track" in text(client_a.get("/budgets/"))
    assert "Over budget" in text(client_a.get("/budgets/"))


def test_the_detail_charts_the_cumulative_cost_and_says_when_thresholds_fired(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    budget_check(spent, TODAY)

    response = as_user(client_a, admin_a).get(f"/budgets/{spent.pk}/")

    page = text(response)
    assert "Actual so far 95.38 USD 95.4 % of the budget" in page
    assert "Days counted 19 of 31" in page
    fired = [m.group(1) for m in re.finditer(r"(\d+ % of \w+ spend) [\d.,]+ USD Fired on", page)]
    assert sorted(fired) == ["100 % of forecast spend", "90 % of actual spend"]
    chart = json.loads(
        re.search(
            r'<script id="budget-chart" type="application/json">(.*?)</script>',
            response.content.decode(),
            re.S,
        ).group(1)  # type: ignore[union-attr]
    )
    assert len(chart["days"]) == 31 and chart["budget"] == "100.00"
    # All cost is on one day of the fake bill: cumulative from there, none after yesterday.
    assert chart["actual"][18] == "95.38" and chart["actual"][19] is None
    assert chart["forecast"][18] == "95.38" and chart["forecast"][30] == "155.61"


def test_a_team_lead_sees_only_their_teams_budgets(
    client_a: TenantClient, tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: World = build_world(tmp_path, monkeypatch)
    web = Budget.objects.create(name="Web budget", scope="team", team=world.web, amount=D("10"))
    data = Budget.objects.create(name="Data budget", scope="team", team=world.data, amount=D("9"))
    Budget.objects.create(name="Estate", amount=D("100"))
    client = as_user(client_a, world.lead)

    page = text(client.get("/budgets/"))

    assert "Web budget Team Web team" in page
    assert "Data budget" not in page and "Estate" not in page
    assert "New budget" not in page
    assert client.get(f"/budgets/{web.pk}/").status_code == 200
    assert client.get(f"/budgets/{data.pk}/").status_code == 404
    assert client.get(f"/budgets/{web.pk}/edit/").status_code == 403
    assert client.get("/budgets/new/").status_code == 403
    assert client.post(f"/budgets/{web.pk}/delete/").status_code == 403
    assert Budget.objects.filter(pk=web.pk).exists()


def test_an_end_customer_may_not_open_budgets(client_a: TenantClient, tenant_a: Any) -> None:
    client = as_user(client_a, make_user(Role.END_CUSTOMER))

    assert client.get("/budgets/").status_code == 403


def test_the_empty_list_tells_an_admin_to_create_one_and_a_lead_that_none_exists(
    client_a: TenantClient, admin_a: User
) -> None:
    page = text(as_user(client_a, admin_a).get("/budgets/"))
    assert "No budgets yet" in page and "Create the first budget" in page

    lead_page = text(as_user(client_a, make_user(Role.TEAM_LEAD)).get("/budgets/"))
    assert "None of your teams has a budget yet" in lead_page
    assert "Create the first budget" not in lead_page


def form_data(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Estate monthly",
        "scope": "tenant",
        "period": "monthly",
        "amount": "1200",
        "monthly_amounts": "2026-12 2400",
        "metric": "billed_cost",
        "thresholds-TOTAL_FORMS": "3",
        "thresholds-INITIAL_FORMS": "0",
        "thresholds-0-kind": "percent",
        "thresholds-0-value": "90",
        "thresholds-0-basis": "actual",
        "thresholds-1-kind": "percent",
        "thresholds-1-value": "100",
        "thresholds-1-basis": "forecast",
        "thresholds-2-kind": "percent",
        "thresholds-2-value": "",
        "thresholds-2-basis": "actual",
        "filters-TOTAL_FORMS": "1",
        "filters-INITIAL_FORMS": "0",
        "filters-0-dimension": "service",
        "filters-0-values": "Amazon EC2, Amazon S3",
    }
    return {**data, **changes}


def test_the_new_budget_form_offers_90_actual_and_100_forecast(
    client_a: TenantClient, tenant_a: Any
) -> None:
    body = as_user(client_a, make_user(Role.FINANCE)).get("/budgets/new/").content.decode()

    assert 'name="thresholds-0-value" value="90"' in body
    assert 'name="thresholds-1-value" value="100"' in body
    assert re.search(r'name="thresholds-1-basis".*?value="forecast" selected', body, re.S)


def test_finance_creates_a_budget_with_thresholds_and_filters_through_the_form(
    client_a: TenantClient, spent: Budget
) -> None:
    finance = make_user(Role.FINANCE, "fiona")

    response = as_user(client_a, finance).post("/budgets/new/", form_data())

    budget = Budget.objects.get(name="Estate monthly")
    assert response.status_code == 302 and response["Location"] == f"/budgets/{budget.pk}/"
    assert [str(t) for t in budget.thresholds.all()] == [
        "90 % of actual spend",
        "100 % of forecast spend",
    ]
    assert budget.filters == [["service", ["Amazon EC2", "Amazon S3"]]]
    assert budget.monthly_amounts == {"2026-12": "2400"}
    assert AuditEntry.objects.get(action="budget.create").actor_id == finance.pk
    page = text(client_a.get(response["Location"]))
    assert "Saved the budget Estate monthly." in page
    assert "Service: Amazon EC2, Amazon S3" in page


def test_an_edit_replaces_the_thresholds(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    client = as_user(client_a, admin_a)
    body = client.get(f"/budgets/{spent.pk}/edit/").content.decode()
    assert 'value="Everything"' in body

    response = client.post(
        f"/budgets/{spent.pk}/edit/",
        form_data(name="Everything", **{"thresholds-1-value": "", "thresholds-2-value": "150"}),
    )

    assert response.status_code == 302
    spent.refresh_from_db()
    assert [str(t) for t in spent.thresholds.all()] == [
        "90 % of actual spend",
        "150 % of actual spend",
    ]


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"scope": "team"}, "team", "A budget of a team names its team."),
        ({"amount": "-5"}, "amount", "greater than or equal to 0"),
        ({"thresholds-0-value": "0"}, "thresholds-0-value", "A threshold is above zero."),
        ({"thresholds-1-value": "90", "thresholds-1-basis": "actual"}, "thresholds-1", "twice"),
        ({"filters-0-dimension": "tag:nope"}, "filters-0-dimension", "Select a valid choice"),
        ({"monthly_amounts": "March 5"}, "monthly_amounts", "'March' is not a month"),
        ({"filters-0-dimension": ""}, "filters", "choose the dimension of"),
    ],
)
def test_bad_input_shows_the_named_fields_error_and_saves_nothing(
    client_a: TenantClient, admin_a: User, changes: dict[str, str], where: str, message: str
) -> None:
    response = as_user(client_a, admin_a).post("/budgets/new/", form_data(**changes))

    assert response.status_code == 200
    body = response.content.decode()
    assert message in html.unescape(body)
    # The error stands beside its field: after the field's input, before the next one.
    at = body.index(f'name="{where}') if where != "filters" else body.index("<legend>Filters")
    assert message in html.unescape(body[at : at + 1500])
    assert not Budget.objects.exists()


def test_a_duplicate_name_is_refused_by_the_name_field(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    response = as_user(client_a, admin_a).post("/budgets/new/", form_data(name="Everything"))

    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "already exists" in body[body.index('name="name"') :][:600]


def test_deleting_asks_first_and_only_the_confirmation_post_deletes(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    client = as_user(client_a, admin_a)

    confirm = client.get(f"/budgets/{spent.pk}/delete/")

    assert "Delete the budget Everything?" in text(confirm)
    assert "Its 2 thresholds and 0 alerts go with it." in text(confirm)
    assert Budget.objects.filter(pk=spent.pk).exists()

    done = client.post(f"/budgets/{spent.pk}/delete/")

    assert done.status_code == 302 and done["Location"] == "/budgets/"
    assert not Budget.objects.filter(pk=spent.pk).exists()
    assert AuditEntry.objects.filter(action="budget.delete", actor=admin_a).exists()
    assert "Deleted the budget Everything." in text(client.get("/budgets/"))


def test_the_list_reads_budgets_thresholds_and_alerts_once_however_many_budgets(
    client_a: TenantClient, admin_a: User, spent: Budget
) -> None:
    for n in range(3):
        budget = Budget.objects.create(name=f"Team {n}", amount=D("10"))
        BudgetThreshold.objects.create(budget=budget, value=D("50"))
    budget_check(spent, TODAY)
    client = as_user(client_a, admin_a)

    with CaptureQueriesContext(connection) as read:
        response = client.get("/budgets/")

    assert response.status_code == 200
    budget_reads = [q["sql"] for q in read.captured_queries if '"insights_budget' in q["sql"]]
    assert len(budget_reads) == 3, budget_reads  # budgets, their thresholds, their alerts


@pytest.mark.parametrize("day", ["9999-12-15", "0001-01-15", "2026-02-30", "soon"])
def test_a_day_out_of_reach_or_unreadable_is_not_found_not_an_error(
    client_a: TenantClient, spent: Budget, day: str
) -> None:
    client = as_user(client_a, make_user(Role.ADMIN))
    assert client.get(f"/budgets/{spent.pk}/?day={day}").status_code == 404
