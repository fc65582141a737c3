"""The anomaly monitor in the REST API: anomalies by role, feedback on them, the monitor's
settings; and the services' refusals, each naming its field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from insights.anomalies.feedback import anomaly_feedback_set, monitor_get, monitor_update
from insights.models import Anomaly
from portal.audit.models import AuditEntry
from portal.core.errors import ApplicationError
from portal.users.models import Role, User
from tests.conftest import Api, TenantClient, make_user
from tests.insights.test_anomaly_pages import Estate, estate, planted

__all__ = ["estate"]  # the fixture, shared with the pages' tests


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_team_lead_lists_and_reads_only_their_teams_anomalies(
    client_a: TenantClient, estate: Estate
) -> None:
    api = Api(client_a, estate.lead)

    assert ids(api.get("anomalies/")) == [estate.web_spike.pk]
    one = api.get(f"anomalies/{estate.web_spike.pk}/")
    assert one.status_code == 200
    body = one.json()
    assert body["team_name"] == "Web" and body["dimension"] == "team"
    assert (body["expected"], body["actual"], body["impact"]) == (
        "1000.0000",
        "3469.1250",
        "2469.1250",
    )
    assert body["impact_percent"] == "246.9" and body["currency"] == "USD"
    assert body["root_causes"][0] == {
        "dimension": "service",
        "value": "AmazonEC2",
        "label": "Amazon EC2",
        "impact": "1975.3000",
        "share": "80.0",
    }
    assert body["daily"][-1] == {"date": "2026-02-10", "expected": "1000", "actual": "3000"}
    assert body["feedback"] == "open" and body["feedback_by"] is None
    other = api.get(f"anomalies/{estate.data_spike.pk}/")
    assert other.status_code == 404
    assert (
        api.patch(f"anomalies/{estate.data_spike.pk}/", {"feedback": "expected"}).status_code == 404
    )


def test_the_list_is_newest_first_and_filters_by_dimension_feedback_and_dates(
    client_a: TenantClient, estate: Estate, admin_a: User
) -> None:
    account = planted(None, "210000000001", dimension="account", feedback="expected", actual="2000")
    api = Api(client_a, admin_a)
    web, data, account_id = estate.web_spike.pk, estate.data_spike.pk, account.pk

    assert ids(api.get("anomalies/")) == [data, web, account_id]  # by start, then impact
    assert ids(api.get("anomalies/", {"dimension": "account"})) == [account_id]
    assert set(ids(api.get("anomalies/", {"feedback": "open"}))) == {web, data}
    assert ids(api.get("anomalies/", {"start": "2026-02-22"})) == [data]
    assert set(ids(api.get("anomalies/", {"end": "2026-02-10"}))) == {web, account_id}
    assert ids(api.get("anomalies/", {"start": "2026-02-11", "end": "2026-02-19"})) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"dimension": "region"}, "dimension"),
        ({"feedback": "maybe"}, "feedback"),
        ({"start": "2026-02-30"}, "start"),
        ({"end": "yesterday"}, "end"),
    ],
)
def test_an_unreadable_filter_is_refused_naming_it(
    client_a: TenantClient, admin_a: User, query: dict[str, str], field: str
) -> None:
    response = Api(client_a, admin_a).get("anomalies/", query)

    assert response.status_code == 400
    assert response.json()["field"] == field


def test_feedback_through_the_api_is_recorded_with_who_and_an_audit_entry(
    client_a: TenantClient, estate: Estate
) -> None:
    finance = make_user(Role.FINANCE, "fin")
    api = Api(client_a, finance)

    response = api.patch(f"anomalies/{estate.data_spike.pk}/", {"feedback": "expected"})

    assert response.status_code == 200, response.content
    assert response.json()["feedback"] == "expected"
    assert response.json()["feedback_by"] == "fin" and response.json()["feedback_at"]
    anomaly = Anomaly.objects.get(pk=estate.data_spike.pk)
    assert anomaly.feedback == "expected" and anomaly.feedback_by == finance
    entry = AuditEntry.objects.get(action="anomaly.feedback")
    assert entry.actor == finance and entry.after and entry.after["feedback"] == "expected"

    reopened = api.patch(f"anomalies/{estate.data_spike.pk}/", {"feedback": "open"})
    assert reopened.json()["feedback_by"] is None and reopened.json()["feedback_at"] is None


def test_feedback_is_refused_naming_the_field_or_the_role(
    client_a: TenantClient, estate: Estate
) -> None:
    lead_api = Api(client_a, estate.lead)
    refused = lead_api.patch(f"anomalies/{estate.web_spike.pk}/", {"feedback": "sure"})
    assert refused.status_code == 400 and refused.json()["field"] == "feedback"
    missing = lead_api.patch(f"anomalies/{estate.web_spike.pk}/", {})
    assert missing.status_code == 400 and missing.json()["field"] == "feedback"

    member = make_user(Role.TEAM_LEAD, "web-member")
    estate.web.members.add(member)
    member_api = Api(client_a, member)
    assert member_api.get(f"anomalies/{estate.web_spike.pk}/").status_code == 200
    denied = member_api.patch(f"anomalies/{estate.web_spike.pk}/", {"feedback": "expected"})
    assert denied.status_code == 403

    customer_api = Api(client_a, make_user(Role.END_CUSTOMER, "globex"))
    assert customer_api.get("anomalies/").status_code == 403
    assert customer_api.get("anomaly-monitor/").status_code == 403
    assert Anomaly.objects.get(pk=estate.web_spike.pk).feedback == "open"


def test_an_admin_changes_the_monitor_and_others_read_it(
    client_a: TenantClient, admin_a: User
) -> None:
    finance_api = Api(client_a, make_user(Role.FINANCE, "fin"))
    before = finance_api.get("anomaly-monitor/")
    assert before.status_code == 200
    assert before.json()["sensitivity"] == "4.00" and before.json()["baseline_days"] == 28
    assert finance_api.patch("anomaly-monitor/", {"sensitivity": "3"}).status_code == 403

    response = Api(client_a, admin_a).patch(
        "anomaly-monitor/", {"sensitivity": "3.25", "notify_min_impact": "50", "active": False}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["sensitivity"], body["notify_min_impact"], body["active"]) == (
        "3.25",
        "50.00",
        False,
    )
    assert body["baseline_days"] == 28 and body["metric"] == "billed_cost"
    entry = AuditEntry.objects.get(action="anomalymonitor.update")
    assert entry.actor == admin_a
    assert entry.before and entry.before["sensitivity"] == "4.00"
    assert entry.after and entry.after["sensitivity"] == "3.25"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sensitivity": "0"}, "sensitivity"),
        ({"baseline_days": 6}, "baseline_days"),
        ({"baseline_days": 91}, "baseline_days"),
        ({"notify_min_impact": "-1"}, "notify_min_impact"),
        ({"notify_min_percent": "-0.5"}, "notify_min_percent"),
        ({"metric": "list_cost"}, "metric"),
        ({"active": "perhaps"}, "active"),
    ],
)
def test_a_refused_monitor_change_names_the_field(
    client_a: TenantClient, admin_a: User, body: dict[str, Any], field: str
) -> None:
    response = Api(client_a, admin_a).patch("anomaly-monitor/", body)

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert monitor_get().sensitivity == 4 and monitor_get().baseline_days == 28


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sensitivity": "0"}, "sensitivity", "sensitivity is above zero"),
        ({"sensitivity": "-2"}, "sensitivity", "sensitivity is above zero"),
        ({"sensitivity": "1.234"}, "sensitivity", "more than 2 decimal places"),
        ({"baseline_days": "6"}, "baseline_days", "from 7 to 90"),
        ({"baseline_days": "a month"}, "baseline_days", "from 7 to 90"),
        ({"notify_min_impact": "-0.01"}, "notify_min_impact", "is zero or more"),
        ({"notify_min_percent": "ten"}, "notify_min_percent", "not a decimal number"),
        ({"metric": "resale"}, "metric", "billed_cost, effective_cost"),
        ({"active": "yes"}, "active", "true or false"),
        ({"name": "Mine"}, "name", "not a setting of the monitor"),
    ],
)
def test_the_monitor_service_refuses_naming_the_field(
    tenant_a: Any, admin_a: User, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        monitor_update(actor=admin_a, monitor=monitor_get(), **fields)

    assert refused.value.field == field
    assert message in refused.value.message


def test_only_admins_change_the_monitor_and_team_leads_mark_only_teams_they_lead(
    estate: Estate,
) -> None:
    with pytest.raises(PermissionDenied):
        monitor_update(actor=make_user(Role.FINANCE, "fin"), monitor=monitor_get(), active=False)
    with pytest.raises(PermissionDenied):
        anomaly_feedback_set(actor=estate.lead, anomaly=estate.data_spike, feedback="expected")
    marked = anomaly_feedback_set(actor=estate.lead, anomaly=estate.web_spike, feedback="expected")
    assert marked.feedback_by == estate.lead
    assert monitor_get().active


def test_an_anomaly_without_a_share_or_an_early_expected_cost_reads_alike(
    client_a: TenantClient, estate: Estate, admin_a: User
) -> None:
    """An anomaly made by the monitor keeps no share or expected cost where it had none."""
    bare = planted(
        estate.web,
        "Web later",
        start=date(2026, 3, 2),
        end=date(2026, 3, 2),
        causes=[{"dimension": "account", "value": "1", "label": "One", "impact": "5"}],
    )
    bare.daily = [{"date": "2026-03-01", "expected": None, "actual": "1"}, *bare.daily[-1:]]
    bare.save()

    body = Api(client_a, admin_a).get(f"anomalies/{bare.pk}/").json()

    assert body["daily"][0] == {"date": "2026-03-01", "expected": None, "actual": "1"}
    # The share was not stored: the contributor's impact over the anomaly's.
    assert body["root_causes"][0]["share"] == "0.2"
    client_a.force_login(admin_a)
    assert client_a.get(f"/anomalies/{bare.pk}/").status_code == 200
