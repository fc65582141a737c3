"""The anomaly pages: the list, one anomaly with its chart and root causes, feedback on it,
and the monitor's settings; who sees and changes what."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Team
from billing.services.customers import team_create
from insights.anomalies.feedback import monitor_get
from insights.models import Anomaly
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user

D = Decimal
START = date(2026, 2, 10)


def days_around(start: date, end: date, *, base: str, spike: str) -> list[dict[str, str]]:
    """Two weeks at `base` before the anomaly, then its days at `spike`."""
    first = start - timedelta(days=14)
    return [
        {
            "date": (first + timedelta(days=n)).isoformat(),
            "expected": base,
            "actual": spike if start <= first + timedelta(days=n) <= end else base,
        }
        for n in range((end - first).days + 1)
    ]


def planted(
    team: Team | None,
    label: str,
    *,
    dimension: str = "team",
    start: date = START,
    end: date = START,
    expected: str = "1000",
    actual: str = "3469.125",
    percent: str | None = "246.9",
    feedback: str = Anomaly.Feedback.OPEN,
    causes: list[dict[str, Any]] | None = None,
) -> Anomaly:
    impact = D(actual) - D(expected)
    return Anomaly.objects.create(
        monitor=monitor_get(),
        dimension=dimension,
        key=label,
        label=label,
        team=team,
        start_date=start,
        end_date=end,
        expected=D(expected),
        actual=D(actual),
        impact=impact,
        impact_percent=D(percent) if percent else None,
        feedback=feedback,
        root_causes=causes
        if causes is not None
        else [
            {
                "dimension": "service",
                "value": "AmazonEC2",
                "label": "Amazon EC2",
                "impact": str(impact * D("0.8")),
                "share": "80.0",
            },
            {
                "dimension": "service",
                "value": "AmazonS3",
                "label": "Amazon S3",
                "impact": str(impact * D("0.2")),
                "share": "20.0",
            },
            {
                "dimension": "region",
                "value": "us-east-1",
                "label": "us-east-1",
                "impact": str(impact),
                "share": "100.0",
            },
            {
                "dimension": "usage_type",
                "value": "BoxUsage:p4d.24xlarge",
                "label": "BoxUsage:p4d.24xlarge",
                "impact": str(impact * D("0.75")),
                "share": "75.0",
            },
        ],
        daily=days_around(
            start, end, base=str(D(expected) / ((end - start).days + 1)), spike="3000"
        ),
    )


@dataclass
class Estate:
    lead: User
    web: Team
    data: Team
    web_spike: Anomaly
    data_spike: Anomaly


@pytest.fixture
def estate(tenant_a: Any) -> Estate:
    lead = make_user(Role.TEAM_LEAD, "web-lead")
    web = team_create(actor=None, name="Web", leads=[lead])
    data = team_create(actor=None, name="Data")
    return Estate(
        lead=lead,
        web=web,
        data=data,
        web_spike=planted(web, "Web"),
        data_spike=planted(
            data, "Data", start=date(2026, 2, 20), end=date(2026, 2, 22), actual="1500.5"
        ),
    )


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    source = response.content.decode()
    source = re.sub(r"<script.*?</script>", " ", source, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", source)).split())


def as_user(client: TenantClient, role: str, name: str) -> User:
    user = make_user(role, name)
    client.force_login(user)
    return user


def test_the_list_shows_each_anomaly_newest_first_with_amounts_and_currency(
    client_a: TenantClient, estate: Estate
) -> None:
    as_user(client_a, Role.FINANCE, "fin")

    text = text_of(client_a.get("/anomalies/"))

    rows = text.split("Top root cause Status")[1]
    assert rows.index("Data") < rows.index("Web")  # the later one first
    web = rows.split("Web")[1]
    assert "10 Feb 2026" in web
    assert "1,000.00 USD 3,469.13 USD +2,469.13 USD +246.9 %" in web  # half up, grouped
    assert "Service Amazon EC2 (80 %)" in web and "Not reviewed" in web
    data = rows.split("Data")[1].split("Web")[0]
    assert "20 Feb \u2013 22 Feb 2026" in data and "+500.50 USD" in data
    assert "ongoing" not in text  # no cost data: no day is the latest


def test_a_team_lead_sees_only_their_teams_anomalies(
    client_a: TenantClient, estate: Estate
) -> None:
    client_a.force_login(estate.lead)

    text = text_of(client_a.get("/anomalies/"))

    assert "Web" in text and "2,469.13 USD" in text
    assert "Data" not in text and "500.50" not in text
    assert client_a.get(f"/anomalies/{estate.web_spike.pk}/").status_code == 200
    assert client_a.get(f"/anomalies/{estate.data_spike.pk}/").status_code == 404
    feedback = client_a.post(
        f"/anomalies/{estate.data_spike.pk}/feedback/", {"feedback": "expected"}
    )
    assert feedback.status_code == 404
    assert Anomaly.objects.get(pk=estate.data_spike.pk).feedback == "open"


def test_end_customers_do_not_see_anomalies(client_a: TenantClient, estate: Estate) -> None:
    as_user(client_a, Role.END_CUSTOMER, "globex")

    assert client_a.get("/anomalies/").status_code == 403
    assert client_a.get(f"/anomalies/{estate.web_spike.pk}/").status_code == 403
    assert client_a.get("/anomalies/monitor/").status_code == 403


def test_the_list_filters_by_dimension_status_and_period(
    client_a: TenantClient, estate: Estate
) -> None:
    planted(None, "210000000001", dimension="account", feedback="expected")
    as_user(client_a, Role.ADMIN, "boss")

    def names(**query: str) -> set[str]:
        text = text_of(client_a.get("/anomalies/", query))
        return {name for name in ("Web", "Data", "210000000001") if f" {name} " in f"{text} "}

    assert names() == {"Web", "Data", "210000000001"}
    assert names(dimension="account") == {"210000000001"}
    assert names(feedback="expected") == {"210000000001"}
    assert names(feedback="open", dimension="team") == {"Web", "Data"}
    assert names(start="2026-02-21") == {"Data"}  # its days run to the 22nd
    assert names(end="2026-02-19") == {"Web", "210000000001"}
    text = text_of(client_a.get("/anomalies/", {"dimension": "service"}))
    assert "No anomaly matches these filters." in text


def test_with_no_anomaly_the_list_says_what_the_monitor_checks(client_a: TenantClient) -> None:
    as_user(client_a, Role.ADMIN, "boss")

    text = text_of(client_a.get("/anomalies/"))

    assert "No cost anomalies." in text
    assert "checks the daily cost of every team, billing unit, account and service" in text
    assert "with no set-up" in text and "It has not run yet" in text


def test_the_list_reads_a_constant_number_of_queries(
    client_a: TenantClient, estate: Estate
) -> None:
    as_user(client_a, Role.FINANCE, "fin")
    with CaptureQueriesContext(connection) as few:
        client_a.get("/anomalies/")
    for n in range(10):
        planted(estate.web, f"Web {n}", start=START - timedelta(days=n + 1))
    with CaptureQueriesContext(connection) as many:
        text = text_of(client_a.get("/anomalies/"))
    assert "Web 9" in text
    assert len(many) == len(few)


def test_the_detail_shows_figures_root_causes_with_shares_and_the_explorer_link(
    client_a: TenantClient, estate: Estate
) -> None:
    as_user(client_a, Role.FINANCE, "fin")

    response = client_a.get(f"/anomalies/{estate.web_spike.pk}/")
    text = text_of(response)

    assert "On Tuesday 10 February 2026" in text
    assert "Expected 1,000.00 USD Actual 3,469.13 USD Impact +2,469.13 USD" in text
    assert "+246.9 % above expected" in text
    causes = text.split("Share of the impact")[1]
    assert "Service Amazon EC2 AmazonEC2 1,975.30 USD 80.0 %" in causes
    assert "Service Amazon S3 AmazonS3 493.83 USD 20.0 %" in causes
    assert "Region us-east-1 2,469.13 USD 100.0 %" in causes
    assert "Usage type BoxUsage:p4d.24xlarge 1,851.84 USD 75.0 %" in causes
    source = response.content.decode()
    chart = json.loads(
        re.search(r'<script id="anomaly-chart" type="application/json">(.*?)</script>', source)[1]  # type: ignore[index]
    )
    assert chart["start"] == chart["end"] == "2026-02-10" and chart["currency"] == "USD"
    assert chart["days"][-1] == {"date": "2026-02-10", "expected": "1000", "actual": "3000"}
    assert [g["dimension"] for g in chart["causes"]] == ["Service", "Region", "Usage type"]
    assert chart["causes"][0]["items"][0] == {
        "label": "Amazon EC2",
        "share": "80.0",
        "impact": "1975.3000",
    }
    assert "vendor/chartjs/chart.umd.min.js" in source
    link = re.search(r'href="(/costs/\?[^"]+)"', source)
    assert link, "no link to the explorer"
    query = parse_qs(urlsplit(html.unescape(link[1])).query)
    assert query["filter"] == ["team:Web"] and query["granularity"] == ["daily"]
    assert query["start"] == ["2026-01-27"] and query["to"] == ["2026-02-10"]


def test_feedback_on_the_page_is_recorded_with_who_and_an_audit_entry(
    client_a: TenantClient, estate: Estate
) -> None:
    client_a.force_login(estate.lead)
    url = f"/anomalies/{estate.web_spike.pk}/"
    assert "Not expected" in text_of(client_a.get(url))

    response = client_a.post(f"{url}feedback/", {"feedback": "unexpected"}, follow=True)

    text = text_of(response)
    assert "Marked as not expected." in text
    assert "Marked not expected by web-lead on" in text
    anomaly = Anomaly.objects.get(pk=estate.web_spike.pk)
    assert anomaly.feedback == "unexpected" and anomaly.feedback_by == estate.lead
    assert anomaly.feedback_at is not None
    entry = AuditEntry.objects.get(action="anomaly.feedback")
    assert entry.actor == estate.lead and entry.object_id == str(anomaly.pk)
    assert entry.before and entry.before["feedback"] == "open"
    assert entry.after and entry.after["feedback"] == "unexpected"


def test_a_team_member_who_does_not_lead_it_sees_but_may_not_mark(
    client_a: TenantClient, estate: Estate
) -> None:
    member = as_user(client_a, Role.TEAM_LEAD, "web-member")
    estate.web.members.add(member)
    url = f"/anomalies/{estate.web_spike.pk}/"

    text = text_of(client_a.get(url))

    assert "Was this expected?" in text and "Not reviewed yet." in text
    assert 'value="expected"' not in client_a.get(url).content.decode()
    assert client_a.post(f"{url}feedback/", {"feedback": "expected"}).status_code == 403
    assert not AuditEntry.objects.filter(action="anomaly.feedback").exists()


def test_the_monitor_page_saves_an_admins_settings_and_names_a_refused_field(
    client_a: TenantClient, tenant_a: Any
) -> None:
    as_user(client_a, Role.ADMIN, "boss")
    text = text_of(client_a.get("/anomalies/monitor/"))
    assert "Last run Not yet" in text and "Anomalies recorded 0" in text
    form = {
        "sensitivity": "3.5",
        "baseline_days": "42",
        "notify_min_impact": "250",
        "notify_min_percent": "15",
        "metric": "effective_cost",
        "active": "on",
    }

    refused = client_a.post("/anomalies/monitor/", {**form, "baseline_days": "120"})
    assert refused.status_code == 200
    errors = re.findall(r'class="field-error">(.*?)<', refused.content.decode())
    assert errors == ["baseline_days is a whole number of days from 7 to 90."]
    assert monitor_get().baseline_days == 28

    saved = client_a.post("/anomalies/monitor/", form, follow=True)
    assert "Saved the anomaly monitor&#x27;s settings." in saved.content.decode()
    monitor = monitor_get()
    assert (monitor.sensitivity, monitor.baseline_days) == (D("3.5"), 42)
    assert (monitor.notify_min_impact, monitor.notify_min_percent) == (D("250"), D("15"))
    assert monitor.metric == "effective_cost" and monitor.active
    assert AuditEntry.objects.filter(action="anomalymonitor.update").count() == 1


def test_finance_reads_the_monitor_settings_and_team_leads_do_not(
    client_a: TenantClient, estate: Estate
) -> None:
    as_user(client_a, Role.FINANCE, "fin")
    source = client_a.get("/anomalies/monitor/").content.decode()
    assert "only admins change them" in source and "disabled" in source
    assert client_a.post("/anomalies/monitor/", {"sensitivity": "1"}).status_code == 403
    assert "Monitor settings" in text_of(client_a.get("/anomalies/"))

    client_a.force_login(estate.lead)
    assert "Monitor settings" not in text_of(client_a.get("/anomalies/"))
    assert client_a.get("/anomalies/monitor/").status_code == 403
