"""The cost explorer page: its form from the query string, the options of each role, a billing
view's locks, the CSV link, and the cost cards of billing view and team pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from billing.models import BillingView, Team
from insights.query import add_months
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")


def logged_in(client: TenantClient, user: User) -> TenantClient:
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def config(response: Any) -> dict[str, Any]:
    """The state, options and URLs the page hands its script."""
    page = text(response)
    found = re.search(
        r'<script id="explorer-config" type="application/json">(.*?)</script>', page, re.S
    )
    assert found, "the page has no explorer config"
    return dict(json.loads(found.group(1)))


def field_value(page: str, name: str) -> str:
    found = re.search(rf'<input type="\w+" name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no input {name}"
    return found.group(1)


def selected(page: str, name: str) -> list[str]:
    """The selected option of every select named `name`, in page order ("" when none)."""
    out = []
    for select in re.findall(rf'<select name="{name}".*?</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select)
        out.append(chosen.group(1) if chosen else "")
    return out


def metric_options(page: str) -> dict[str, str]:
    select = re.search(r'<select name="metric".*?</select>', page, re.S)
    assert select
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(0)))


@pytest.mark.parametrize(
    ("role", "metrics"),
    [
        (Role.ADMIN, {"billed_cost", "effective_cost", "list_cost"}),
        (Role.FINANCE, {"billed_cost", "effective_cost", "list_cost"}),
        (Role.RESELLER_ADMIN, {"billed_cost", "effective_cost", "list_cost"}),
        (Role.TEAM_LEAD, {"billed_cost", "effective_cost", "list_cost"}),
        (Role.END_CUSTOMER, {"resale"}),
    ],
)
def test_every_role_opens_the_explorer_with_the_metrics_it_may_use(
    client_a: TenantClient, role: str, metrics: set[str]
) -> None:
    page = logged_in(client_a, make_user(role)).get("/costs/")

    assert page.status_code == 200
    assert "<h1>Cost explorer" in text(page)
    offered = metric_options(text(page))
    assert set(offered) == metrics
    assert {item["key"] for item in config(page)["options"]["metrics"]} == metrics
    service = {"key": "service", "label": "Service"}
    assert service in config(page)["options"]["dimensions"]


def test_an_end_customer_sees_its_resale_price_as_cost_and_asks_for_it(
    client_a: TenantClient,
) -> None:
    page = logged_in(client_a, make_user(Role.END_CUSTOMER)).get("/costs/")

    assert metric_options(text(page)) == {"resale": "Cost"}
    assert config(page)["state"]["metric"] == "resale"
    csv = parse_qs(urlsplit(csv_href(text(page))).query)
    assert csv["metric"] == ["resale"]


def test_the_explorer_needs_a_login(client_a: TenantClient) -> None:
    page = client_a.get("/costs/")

    assert page.status_code == 302
    assert "/login/" in page["Location"]


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN, Role.TEAM_LEAD, Role.END_CUSTOMER]
)
def test_the_menu_links_to_the_explorer_after_the_dashboard(
    client_a: TenantClient, role: str
) -> None:
    page = text(logged_in(client_a, make_user(role)).get("/org/billing-views/"))

    nav = page[page.index("<nav>") : page.index("</nav>")]
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', nav)
    assert links[1] == ("/costs/", "Cost explorer")


def test_the_form_shows_the_state_of_the_query_string(admin_client_a: TenantClient) -> None:
    page = admin_client_a.get(
        "/costs/",
        {
            "start": "2026-01-01",
            "end": "2026-03-01",
            "granularity": "monthly",
            "metric": "effective_cost",
            "group_by": "region,service",
            "filter": ["service:AmazonEC2", "tag:team:web"],
            "exclude": "region:us-east-1",
            "limit": "5",
        },
    )
    html = text(page)

    assert page.status_code == 200
    assert field_value(html, "start") == "2026-01-01"
    assert field_value(html, "to") == "2026-02-28"  # the last day shown; the API's end is the 1st
    assert selected(html, "period") == ["custom"]
    assert selected(html, "granularity") == ["monthly"]
    assert selected(html, "metric") == ["effective_cost"]
    assert selected(html, "group_by") == ["region", "service", ""]
    assert field_value(html, "limit") == "5"
    assert '<input type="hidden" name="filter" value="service:AmazonEC2">' in html
    assert '<input type="hidden" name="filter" value="tag:team:web">' in html
    assert '<input type="hidden" name="exclude" value="region:us-east-1">' in html
    assert "Tag team is <strong>web</strong>" in html
    assert "Region is not <strong>us-east-1</strong>" in html
    state = config(page)["state"]
    assert state["filters"] == [
        {"mode": "filter", "dimension": "service", "value": "AmazonEC2"},
        {"mode": "filter", "dimension": "tag:team", "value": "web"},
        {"mode": "exclude", "dimension": "region", "value": "us-east-1"},
    ]


def test_a_page_without_parameters_shows_this_month_by_service(
    admin_client_a: TenantClient,
) -> None:
    today = timezone.localdate()

    html = text(admin_client_a.get("/costs/"))

    assert selected(html, "period") == ["this_month"]
    assert field_value(html, "start") == today.replace(day=1).isoformat()
    assert field_value(html, "to") == today.isoformat()
    assert selected(html, "granularity") == ["daily"]
    assert selected(html, "group_by") == ["service", "", ""]
    assert field_value(html, "limit") == "10"


def test_a_preset_period_is_whole_months_read_monthly(admin_client_a: TenantClient) -> None:
    first = timezone.localdate().replace(day=1)

    html = text(admin_client_a.get("/costs/", {"period": "last_3_months", "group_by": ""}))

    assert selected(html, "period") == ["last_3_months"]
    assert field_value(html, "start") == add_months(first, -3).isoformat()
    assert field_value(html, "to") == (first - timedelta(days=1)).isoformat()
    assert selected(html, "granularity") == ["monthly"]
    assert selected(html, "group_by") == ["", "", ""]  # an empty group_by: the total only
    # The dates of a preset select it.
    dates = {"start": add_months(first, -1).isoformat(), "end": first.isoformat()}
    assert selected(text(admin_client_a.get("/costs/", dates)), "period") == ["last_month"]


def csv_href(page: str) -> str:
    found = re.search(r'<a class="button secondary" href="([^"]*)" data-csv-link', page)
    assert found
    return found.group(1).replace("&amp;", "&")


def test_the_csv_link_carries_the_parameters(admin_client_a: TenantClient) -> None:
    html = text(
        admin_client_a.get(
            "/costs/",
            {
                "start": "2026-01-01",
                "to": "2026-01-31",
                "group_by": ["service", "account"],
                "filter": "tag:aws:createdBy=alice",
                "exclude": "service:AWS Support",
                "limit": "3",
            },
        )
    )

    href = csv_href(html)
    assert href.startswith("/api/v1/costs.csv?")
    assert parse_qs(urlsplit(href).query) == {
        "start": ["2026-01-01"],
        "end": ["2026-02-01"],
        "granularity": ["daily"],
        "metric": ["billed_cost"],
        "group_by": ["service,account"],
        "filter": ["tag:aws:createdBy=alice"],
        "exclude": ["service:AWS Support"],
        "limit": ["3"],
    }


def test_the_api_answers_the_csv_link_of_the_page(admin_client_a: TenantClient) -> None:
    html = text(admin_client_a.get("/costs/", {"period": "last_month", "group_by": "region"}))

    answer = admin_client_a.get(csv_href(html))

    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/csv")
    assert answer.content.decode().splitlines()[0].startswith("Region,date,billed_cost")


def test_a_query_the_api_would_refuse_is_said_on_the_page(admin_client_a: TenantClient) -> None:
    page = admin_client_a.get("/costs/", {"group_by": "colour"})

    assert page.status_code == 200
    assert "group_by: &#x27;colour&#x27; is not a dimension" in text(page)
    assert config(page)["error"]["field"] == "group_by"


def test_a_dimension_or_metric_the_user_may_not_use_stays_chosen_for_the_api_to_refuse(
    client_a: TenantClient,
) -> None:
    customer = make_user(Role.END_CUSTOMER)

    page = logged_in(client_a, customer).get("/costs/", {"group_by": "team", "metric": "list_cost"})

    html = text(page)
    options = config(page)["options"]
    assert "team" not in {d["key"] for d in options["dimensions"]}
    assert "list_cost" not in {m["key"] for m in options["metrics"]}
    assert selected(html, "group_by") == ["team", "", ""]
    assert '<option value="team" selected>Team</option>' in html
    assert selected(html, "metric") == ["list_cost"]
    assert '<option value="list_cost" selected>List cost</option>' in html


def test_the_empty_state_tells_who_may_ingest_how_to_get_cost(client_a: TenantClient) -> None:
    admin_page = text(logged_in(client_a, make_user(Role.ADMIN)).get("/costs/"))
    lead_page = text(logged_in(client_a, make_user(Role.TEAM_LEAD)).get("/costs/"))
    finance_page = text(logged_in(client_a, make_user(Role.FINANCE)).get("/costs/"))

    assert "No cost for this period. Ingest a bill" in admin_page
    assert 'href="/costs/ingests/"' in admin_page
    assert "No cost to show for this period yet." in lead_page
    assert "Ingest a bill" not in lead_page
    assert "Ingest a bill" not in finance_page  # only admins upload bills


def test_a_billing_view_opens_with_its_filters_locked(client_a: TenantClient) -> None:
    owner = make_user(Role.FINANCE, "fin-owner")
    reader = make_user(Role.RESELLER_ADMIN, "res-reader")
    view = BillingView.objects.create(name="Compute only", owner=owner, services=["AmazonEC2"])
    view.shared_with.set([reader])

    page = logged_in(client_a, reader).get("/costs/", {"view": view.pk})

    html = text(page)
    assert page.status_code == 200
    assert "Compute only" in html[html.index("<h1>") : html.index("</h1>")]
    assert "Locked by the billing view Compute only" in html
    assert '<span class="chip-label">Service:</span> AmazonEC2' in html
    assert f'<input type="hidden" name="view" value="{view.pk}">' in html
    assert parse_qs(urlsplit(csv_href(html)).query)["view"] == [str(view.pk)]
    assert config(page)["view"] == {"id": view.pk, "name": "Compute only"}


@pytest.mark.parametrize("role", [Role.FINANCE, Role.TEAM_LEAD, Role.END_CUSTOMER])
def test_a_billing_view_not_shared_with_the_user_is_not_found(
    client_a: TenantClient, role: str
) -> None:
    view = BillingView.objects.create(name="Private", owner=make_user(Role.FINANCE, "owner"))

    page = logged_in(client_a, make_user(role)).get("/costs/", {"view": view.pk})

    assert page.status_code == 404


def test_an_admin_opens_any_billing_view_and_a_bad_id_is_not_found(
    admin_client_a: TenantClient,
) -> None:
    view = BillingView.objects.create(name="Private", owner=make_user(Role.FINANCE, "owner"))

    assert admin_client_a.get("/costs/", {"view": view.pk}).status_code == 200
    assert admin_client_a.get("/costs/", {"view": "x1"}).status_code == 404
    assert admin_client_a.get("/costs/", {"view": view.pk + 1000}).status_code == 404


def test_the_billing_view_page_opens_the_explorer_and_charts_the_view(
    admin_client_a: TenantClient,
) -> None:
    view = BillingView.objects.create(name="Compute", owner=make_user(Role.FINANCE, "owner"))

    html = text(admin_client_a.get(f"/org/billing-views/{view.pk}/"))

    assert f'href="/costs/?view={view.pk}">Open in the explorer</a>' in html
    assert f'data-api="/api/v1/costs/?view={view.pk}&amp;group_by=service' in html
    assert "insights/charts.js" in html


def test_the_team_page_charts_the_team_cost_and_links_to_the_explorer(
    admin_client_a: TenantClient,
) -> None:
    team = Team.objects.create(name="Web & Mobile")

    html = text(admin_client_a.get(f"/org/teams/{team.pk}/"))

    team_filter = "filter=team%3AWeb%20%26%20Mobile"
    assert f'data-api="/api/v1/costs/?{team_filter}&amp;group_by=service' in html
    assert f'href="/costs/?{team_filter}&amp;group_by=service&amp;period=this_month"' in html
    assert "Open in the explorer" in html
    assert "bound to no cost category value" in html
    explorer = text(admin_client_a.get("/costs/", {"filter": "team:Web & Mobile"}))
    assert '<input type="hidden" name="filter" value="team:Web &amp; Mobile">' in explorer


CHARTS_JS = Path(__file__).resolve().parents[2] / "static" / "insights" / "charts.js"


def run_charts_js(expression: str) -> Any:
    """`expression` evaluated with `charts` = static/insights/charts.js, under node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        f"const charts = require({str(CHARTS_JS)!r}); console.log(JSON.stringify({expression}));"
    )
    result = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_charts_write_amounts_from_their_decimal_text_rounded_half_up() -> None:
    cases = [
        ("1234.565", "USD"),  # a float would round 1234.565 down
        ("-0.004", "USD"),
        ("999.995", "USD"),
        ("12345678901234567.125", "USD"),  # past a float's 15 digits
        ("1234.5", "JPY"),
        ("1.0005", "KWD"),
    ]
    calls = ", ".join(f"charts.formatMoney({a!r}, {c!r})" for a, c in cases)

    shown = run_charts_js(f"[{calls}, charts.formatMoney('12.3', 'USD', {{sign: true}})]")

    assert shown == [
        "1,234.57 USD",
        "0.00 USD",
        "1,000.00 USD",
        "12,345,678,901,234,567.13 USD",
        "1,235 JPY",
        "1.001 KWD",
        "+12.30 USD",
    ]


def test_the_chart_stacks_one_dataset_per_group_with_others_last_in_grey() -> None:
    answer = {
        "currency": "USD",
        "granularity": "monthly",
        "total": "6",
        "groups": [
            {"key": "Others", "keys": ["Others"], "total": "1",
             "series": [{"date": "2026-01-01", "amount": "1"}]},
            {"key": "EC2", "keys": ["EC2"], "total": "5",
             "series": [{"date": "2026-01-01", "amount": "2"},
                        {"date": "2026-02-01", "amount": "3"}]},
        ],
    }  # fmt: skip

    data = run_charts_js(f"charts.chartData({json.dumps(answer)})")

    assert data["labels"] == ["Jan 2026", "Feb 2026"]
    assert [d["label"] for d in data["datasets"]] == ["EC2", "Others"]
    assert data["datasets"][0]["amounts"] == ["2", "3"]
    assert data["datasets"][1]["amounts"] == ["1", "0"]  # a month without cost is drawn as 0
    assert data["datasets"][1]["backgroundColor"] == "#98a2b3"
    assert run_charts_js("charts.sumDecimals(['0.1', '0.2', '-0.05'])") == "0.25"
