"""Who may write and read which team's business metrics: admins any team, team leads the
teams they lead (and read those they belong to), other roles no upload, end customers
nothing at all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from insights.models import BusinessMetric
from portal.users.models import Role
from tests.conftest import Api, TenantClient, make_user
from tests.insights.metric_teams import HEADER, Teams, post_csv, stored, teams

D = Decimal
__all__ = ["teams"]  # the fixture, used by name


def test_a_team_lead_writes_only_the_teams_they_lead(client_a: TenantClient, teams: Teams) -> None:
    api = Api(client_a, teams.lead)

    own = post_csv(api, HEADER + "2026-01-20,Web,orders,1\n")
    member = post_csv(api, HEADER + "2026-01-20,Web,orders,2\n2026-01-20,Data,jobs,1\n")
    other = api.post(
        "business-metrics/", {"date": "2026-01-20", "team": teams.ops.pk, "metric": "a", "value": 1}
    )

    assert own.status_code == 201
    assert member.status_code == 400
    assert member.json()["errors"] == [
        {
            "line": 3,
            "field": "team",
            "message": "line 3, team: you do not lead Data; its leads and admins upload its "
            "metrics",
        }
    ]
    assert other.status_code == 400
    assert other.json()["errors"][0]["message"] == (
        f"item 1, team: '{teams.ops.pk}' is not a team you can see"
    )
    assert stored() == {("Web", "orders", date(2026, 1, 20)): D("1")}
    # Nor through the page of a team they only belong to, or cannot see.
    client_a.force_login(teams.lead)
    assert client_a.get(f"/costs/teams/{teams.data.pk}/metrics/").status_code == 403
    assert client_a.get(f"/costs/teams/{teams.ops.pk}/metrics/").status_code == 404
    assert client_a.get(f"/costs/teams/{teams.web.pk}/metrics/").status_code == 200


def test_a_team_lead_reads_only_their_teams_values(client_a: TenantClient, teams: Teams) -> None:
    for team, value in ((teams.web, 1), (teams.data, 2), (teams.ops, 3)):
        BusinessMetric.objects.create(team=team, metric="m", day=date(2026, 1, 20), value=value)
    api = Api(client_a, teams.lead)

    listed = api.get("business-metrics/").json()
    refused = api.get("business-metrics/", {"team": teams.ops.pk})

    assert sorted(r["team_name"] for r in listed["results"]) == ["Data", "Web"]
    assert refused.status_code == 404
    admin = Api(client_a, teams.admin).get("business-metrics/", {"team": teams.ops.pk})
    assert [r["value"] for r in admin.json()["results"]] == ["3"]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.RESELLER_ADMIN, Role.END_CUSTOMER])
def test_other_roles_may_not_upload(client_a: TenantClient, teams: Teams, role: str) -> None:
    api = Api(client_a, make_user(role))

    response = post_csv(api, HEADER + "2026-01-20,Web,orders,1\n")

    assert response.status_code == 403
    assert not BusinessMetric.objects.exists()


def test_an_end_customer_reads_no_metrics_and_finance_reads_all(
    client_a: TenantClient, teams: Teams
) -> None:
    BusinessMetric.objects.create(team=teams.ops, metric="m", day=date(2026, 1, 20), value=1)

    customer = Api(client_a, make_user(Role.END_CUSTOMER)).get("business-metrics/")
    finance = Api(client_a, make_user(Role.FINANCE)).get("business-metrics/")

    assert customer.status_code == 403
    assert finance.json()["count"] == 1


def test_a_bad_list_parameter_is_refused_naming_it(client_a: TenantClient, teams: Teams) -> None:
    api = Api(client_a, teams.admin)
    for query, field in (("start=2026-1-5", "start"), ("end=yesterday", "end"), ("team=x", "team")):
        response = api.get(f"business-metrics/?{query}")
        assert response.status_code == 400, query
        assert response.json()["field"] == field
