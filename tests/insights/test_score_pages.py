"""Team efficiency scores on the home pages: a team lead's own teams, the admin's league."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Team
from billing.services.customers import team_create
from insights.models import ScoreSettings, TeamScore
from insights.scores.signals import COMPONENTS
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user

D = Decimal
WEEK = date(2026, 1, 26)  # a Monday: the latest scored week
EMPTY = (
    "Scores appear after the first full week of allocated cost; an admin can run compute_scores."
)


def components(**given: tuple[str, str, str]) -> list[dict[str, Any]]:
    """All components, not applicable but those `given` as (value %, eligible, saving)."""
    made = []
    for key in COMPONENTS:
        value, eligible, saving = given.get(key, (None, "0", "0"))
        made.append(
            {
                "key": key,
                "applicable": value is not None,
                "value": value,
                "weight": "2",
                "target": "50",
                "eligible_cost": eligible,
                "efficient_cost": "0",
                "potential_saving": saving,
            }
        )
    return made


def scored(team: Team, week: date, score: str | None, **given: tuple[str, str, str]) -> None:
    TeamScore.objects.create(
        team=team,
        week=week,
        score=None if score is None else D(score),
        components=components(**given),
    )


def page(client: TenantClient, user: User) -> tuple[str, str]:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    source = response.content.decode()
    return source, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", source)).split())


@pytest.fixture
def lead(tenant_a: Any) -> User:
    return make_user(Role.TEAM_LEAD, "score-lead")


@pytest.fixture
def teams(lead: User) -> dict[str, Team]:
    web = team_create(actor=None, name="Web", leads=[lead])
    data = team_create(actor=None, name="Data")
    platform = team_create(actor=None, name="Platform")
    team_create(actor=None, name="Newcomers")  # never scored
    for n, score in enumerate(["40.00", "52.50", "61.25"]):  # oldest first
        scored(web, WEEK - timedelta(weeks=3 - n), score, graviton=("25.00", "400", "86.96"))
    scored(
        web,
        WEEK,
        "61.25",
        graviton=("25.00", "400", "86.96"),
        spot=("0.00", "400", "950.00"),
        ebs_volume_type=("90.00", "1234.5", "0"),
    )
    scored(data, WEEK - timedelta(weeks=1), "80.00", s3_storage_class=("70.00", "10", "5"))
    scored(data, WEEK, "72.40", s3_storage_class=("60.00", "10", "5.25"))
    scored(platform, WEEK - timedelta(weeks=1), "50.00")
    scored(platform, WEEK, None)  # none of its cost was eligible
    return {"Web": web, "Data": data, "Platform": platform}


def test_a_team_lead_sees_their_teams_score_trend_and_components(
    client_a: TenantClient, lead: User, teams: dict[str, Team]
) -> None:
    source, text = page(client_a, lead)

    section = text.split("Your teams' efficiency")[1].split("How is this computed?")[0]
    assert "Web Week of January 26, 2026 (2026-W05) 61.3 / 100" in section  # 61.25, half up
    # The week before scored 61.25 too (two weeks before, 52.50): no change.
    assert "no change on the week before" in section
    # Largest monthly saving first; amounts with their currency, thousands grouped.
    names = re.findall(r"(Spot|Graviton|EBS volume types) \(?", section)
    assert names[:3] == ["Spot", "Graviton", "EBS volume types"]
    assert "Spot 0.0 % of target 50 %" in section
    assert "save about 950.00 USD a month" in section
    assert "Graviton 25.0 % of target 50 %" in section and "save about 86.96 USD a month" in section
    assert "Eligible cost 1,234.50 USD a week nothing left to save" in section
    assert "Not applicable: Commitment coverage, Current-generation instances," in section
    assert '<span class="score-na">Tag compliance,</span>' in source
    # Another team's scores are not the lead's to see.
    assert "Data" not in section and "72.4" not in text and "Platform" not in text
    assert "Team efficiency" not in text  # the league is for admins and finance
    found = re.search(r'<script id="score-trends" type="application/json">(.*?)</script>', source)
    assert found, "no trends on the page"
    (web,) = json.loads(found[1])
    assert web["id"] == teams["Web"].pk and len(web["weeks"]) == 12
    assert web["weeks"][-3:] == ["2026-W03", "2026-W04", "2026-W05"]
    assert web["scores"][-3:] == ["52.50", "61.25", "61.25"] and web["scores"][0] is None
    assert "vendor/chartjs/chart.umd.min.js" in source and "insights/scores.js" in source
    assert f'id="score-trend-{teams["Web"].pk}"' in source


def test_the_change_is_in_points_against_the_week_before(
    client_a: TenantClient, lead: User, teams: dict[str, Team]
) -> None:
    teams["Data"].leads.add(lead)
    teams["Platform"].members.add(lead)

    _, text = page(client_a, lead)

    section = text.split("Your teams' efficiency")[1]
    data = section.split("Data Week of")[1].split("Platform")[0]
    assert "72.4 / 100 -7.6 points on the week before" in data
    assert "S3 storage classes 60.0 % of target 50 %" in data
    platform = section.split("Platform Week of")[1].split("Web Week of")[0]
    assert "not applicable None of the week's cost is eligible for a component." in platform
    assert "no score this week" in platform


def test_the_explanation_shows_the_tenants_weights_and_targets(
    client_a: TenantClient, lead: User, teams: dict[str, Team]
) -> None:
    ScoreSettings.objects.create(weights={"spot": 0}, targets={"graviton": 25})

    _, text = page(client_a, lead)

    explained = text.split("How is this computed?")[1]
    assert "weighted mean of the components that apply" in explained
    assert "scaled so that its target scores 100" in explained
    assert "Graviton instance cost on Graviton 2 25 %" in explained
    assert "Spot instance cost on Spot 0 20 %" in explained


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE])
def test_admin_and_finance_see_the_league_best_first_unscored_last(
    client_a: TenantClient, teams: dict[str, Team], role: str
) -> None:
    source, text = page(client_a, make_user(role, f"league-{role}"))

    league = text.split("Team efficiency")[1].split("How is this computed?")[0]
    rows = re.findall(r"(Data|Web|Platform|Newcomers) (2026-W05)?", league)
    assert [name for name, _ in rows] == ["Data", "Web", "Platform", "Newcomers"]
    assert "1 Data 2026-W05 72.4 -7.6 points S3 storage classes: 5.25 USD a month" in league
    assert "2 Web 2026-W05 61.3 no change Spot: 950.00 USD a month" in league
    assert "Platform 2026-W05 not applicable — —" in league
    assert "Newcomers no score yet — —" in league
    assert f'<a href="/org/teams/{teams["Data"].pk}/">Data</a>' in source
    assert "Your teams' efficiency" not in text and 'id="score-trends"' not in source


def test_an_end_customer_and_a_reseller_admin_see_no_scores(
    client_a: TenantClient, teams: dict[str, Team]
) -> None:
    for role in (Role.END_CUSTOMER, Role.RESELLER_ADMIN):
        _, text = page(client_a, make_user(role, f"no-scores-{role}"))
        assert "efficiency" not in text and "61.3" not in text


def test_before_any_score_each_role_is_told_when_they_come(
    client_a: TenantClient, lead: User
) -> None:
    team_create(actor=None, name="Web", leads=[lead])

    _, lead_text = page(client_a, lead)
    _, admin_text = page(client_a, make_user(Role.ADMIN, "score-admin"))

    assert f"Your teams' efficiency {EMPTY}" in lead_text
    assert f"Team efficiency {EMPTY}" in admin_text
    assert "How is this computed?" not in lead_text + admin_text


def test_a_team_lead_in_no_team_gets_no_score_section(client_a: TenantClient, lead: User) -> None:
    _, text = page(client_a, lead)

    assert "efficiency" not in text and "You are in no team yet" in text


def _queries(client: TenantClient, user: User) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return sum(not q["sql"].startswith("SET search_path") for q in queries)


def test_the_scores_take_the_same_queries_for_more_teams_and_weeks(
    client_a: TenantClient, lead: User, teams: dict[str, Team]
) -> None:
    admin = make_user(Role.ADMIN, "score-admin")
    before = (_queries(client_a, lead), _queries(client_a, admin))
    for n in range(4):
        team = team_create(actor=None, name=f"Extra {n}", leads=[lead])
        for week in range(6):
            scored(team, WEEK - timedelta(weeks=week), f"{50 + week}.00", spot=("10.00", "5", "1"))

    after = (_queries(client_a, lead), _queries(client_a, admin))

    assert after == before
