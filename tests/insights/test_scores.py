"""Team efficiency scores on constructed bills with known answers."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from allocation.models import CostCategory
from billing.models import Team
from billing.services.customers import team_create
from insights.models import ScoreSettings, TeamScore
from insights.services import team_cost_binding_set, team_scores_compute
from portal.users.models import Role
from tests.allocation.run_helpers import (
    JAN,
    category_with,
    cond,
    ingest,
    regular,
    run,
    use_fake_files,
)
from tests.billing.ingest_fakes import line
from tests.conftest import TenantClient, make_user

D = Decimal
WEEK = date(2026, 1, 5)  # 2026-W02, Monday


def usage(day: str, team: str, service: str, usage_type: str, cost: str) -> dict[str, Any]:
    return line(
        charge_period_start=f"2026-01-{day}T00:00:00Z",
        charge_period_end=f"2026-01-{day}T01:00:00Z",
        service_name=service,
        x_usage_type=usage_type,
        billed_cost=cost,
        effective_cost=cost,
        list_cost=cost,
        tags=json.dumps({"team": team}),
    )


ROWS = [
    usage("06", "web", "Amazon EC2", "BoxUsage:m5.large", "300"),
    usage("07", "web", "Amazon EC2", "BoxUsage:m6g.large", "100"),
    usage("06", "data", "Amazon EC2", "EBS:VolumeUsage.gp2", "50"),
    usage("08", "data", "Amazon EC2", "EBS:VolumeUsage.gp3", "150"),
    usage("09", "data", "Amazon S3", "TimedStorage-ByteHrs", "10"),
    usage("13", "web", "Amazon EC2", "BoxUsage:m5.large", "999"),  # the next week
]


@pytest.fixture
def teams(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Team]:
    from billing.models import TagKey

    TagKey.objects.create(name="team")
    ingest(use_fake_files(tmp_path, monkeypatch), ROWS)
    category = category_with(
        "Team",
        [
            regular("Web", cond("tag", "equals", "web", key="team")),
            regular("Data", cond("tag", "equals", "data", key="team")),
        ],
    )
    run(category, JAN)
    made = {}
    for name, value in (("Web team", "Web"), ("Data team", "Data")):
        made[value] = team_create(actor=None, name=name)
        team_cost_binding_set(actor=None, team=made[value], category=category, value=value)
    return made


def component(score: TeamScore, key: str) -> dict[str, Any]:
    return next(c for c in score.components if c["key"] == key)


def test_graviton_share_its_saving_and_the_weighted_score(teams: dict[str, Team]) -> None:
    scores = {s.team.name: s for s in team_scores_compute(actor=None, week=WEEK)}

    web = scores["Web team"]
    graviton = component(web, "graviton")
    # 100 of 400 USD on Graviton; 20 % of the 300 USD of m5 a week, as a monthly saving.
    assert (graviton["eligible_cost"], graviton["efficient_cost"]) == ("400", "100")
    assert graviton["value"] == "25.00"
    assert D(graviton["potential_saving"]) == (D(60) * D("365.25") / 12 / 7).quantize(D("0.01"))
    assert component(web, "spot")["value"] == "0.00"
    assert component(web, "current_generation")["value"] == "100.00"
    # Both instances on demand, no commitment: 20 % of 400 USD a week left to save.
    commitment = component(web, "commitment_coverage")
    assert (commitment["eligible_cost"], commitment["value"]) == ("400", "0.00")
    assert D(commitment["potential_saving"]) == (D(80) * D("365.25") / 12 / 7).quantize(D("0.01"))
    # The rules read the tag key team, so it is required by default; all costs carry it.
    assert component(web, "tag_compliance")["value"] == "100.00"
    for key in ("budget_adherence", "ebs_volume_type", "s3_storage_class"):
        assert component(web, key)["applicable"] is False and component(web, key)["value"] is None
    # Commitment 0 (weight 3), Graviton 25 % of a 50 % target scores 50 (weight 2), current
    # generation 100 (weight 1), Spot 0 (weight 1), tags 100 (weight 2):
    # (0 + 2 * 50 + 100 + 0 + 2 * 100) / 9.
    assert web.score == D("44.44")

    data = scores["Data team"]
    assert component(data, "ebs_volume_type")["value"] == "75.00"
    assert component(data, "s3_storage_class")["value"] == "0.00"
    assert component(data, "commitment_coverage")["applicable"] is False
    assert data.score == D("70.83")  # (75 / 90 * 100 + 0 + 2 * 100) / 4


def test_weights_and_targets_come_from_the_settings(teams: dict[str, Team]) -> None:
    ScoreSettings.objects.create(
        weights={"spot": 0, "commitment_coverage": 0}, targets={"graviton": 25}
    )

    (web,) = team_scores_compute(actor=None, week=WEEK, team_ids=[teams["Web"].pk])

    # Graviton at its target, current generation and tags at 100; Spot and commitments
    # weigh nothing.
    assert web.score == D("100.00")


def test_a_team_without_eligible_cost_is_not_applicable_not_zero(
    teams: dict[str, Team],
) -> None:
    (score,) = team_scores_compute(actor=None, week=date(2026, 1, 26), team_ids=[teams["Web"].pk])

    assert score.score is None
    assert not any(c["applicable"] for c in score.components)


def test_computing_a_week_again_replaces_it(teams: dict[str, Team]) -> None:
    team_scores_compute(actor=None, week=WEEK)
    ScoreSettings.objects.create(targets={"graviton": 25})
    team_scores_compute(actor=None, week=date(2026, 1, 8))  # any day of the week

    web = TeamScore.objects.get(team=teams["Web"])
    assert web.week == WEEK and web.score == D("55.56")  # (0 + 2 * 100 + 100 + 0 + 200) / 9


def test_the_command_prints_each_teams_score(teams: dict[str, Team], tenant_a: Any) -> None:
    out = StringIO()
    call_command(
        "compute_scores", "--tenant", tenant_a.schema_name, "--week", "2026-W02", stdout=out
    )

    assert "2026-W02 (from 2026-01-05):" in out.getvalue()
    assert "Web team: 44.44" in out.getvalue()
    assert "Data team: 70.83" in out.getvalue()


def test_a_team_lead_reads_only_their_teams_scores(
    client_a: TenantClient, teams: dict[str, Team]
) -> None:
    team_scores_compute(actor=None, week=WEEK)
    lead = make_user(Role.TEAM_LEAD, "score-lead")
    teams["Web"].leads.add(lead)
    client_a.force_login(lead)

    own = client_a.get(f"/api/v1/teams/{teams['Web'].pk}/scores/")
    other = client_a.get(f"/api/v1/teams/{teams['Data'].pk}/scores/")

    assert own.status_code == 200
    (week,) = own.json()
    assert (week["week"], week["score"]) == ("2026-W02", "44.44")
    assert {c["key"] for c in week["components"]} >= {"graviton", "spot", "commitment_coverage"}
    assert other.status_code == 404
    assert CostCategory.objects.filter(name="Team").exists()


def test_recommendations_are_ranked_by_saving_with_their_reasoning(
    client_a: TenantClient, teams: dict[str, Team], admin_a: Any
) -> None:
    client_a.force_login(admin_a)
    url = f"/api/v1/teams/{teams['Web'].pk}/recommendations/"

    found = client_a.get(url, {"week": "2026-01-07"}).json()

    # m5.large: Spot saves 55 % of 300 a week, Graviton and a Savings Plan 20 % each;
    # m6g.large: Spot 55 % of 100, a Savings Plan 20 %.
    monthly = [(r["current"], r["suggested"], r["monthly_saving"]) for r in found]
    per_month = D("365.25") / 12 / 7
    assert monthly == [
        ("on-demand", "Spot", str((D(165) * per_month).quantize(D("0.01")))),
        ("m5.large", "m7g.large", str((D(60) * per_month).quantize(D("0.01")))),
        ("on-demand", "Savings Plan", str((D(60) * per_month).quantize(D("0.01")))),
        ("on-demand", "Spot", str((D(55) * per_month).quantize(D("0.01")))),
        ("on-demand", "Savings Plan", str((D(20) * per_month).quantize(D("0.01")))),
    ]
    assert found[1]["category"] == "compute" and found[1]["owner_team"] == "Web team"
    assert found[1]["owner_account"] == "210000000001"
    assert "m5.large cost 300.00 USD in the week from 2026-01-05" in found[1]["reasoning"]
    data = client_a.get(
        f"/api/v1/teams/{teams['Data'].pk}/recommendations/",
        {"week": "2026-01-07", "category": "storage"},
    ).json()
    # gp2: 20 % of 50 a week; S3 Standard: 45 % of 10.
    assert [(r["current"], r["suggested"]) for r in data] == [
        ("gp2", "gp3"),
        ("S3 Standard", "S3 Intelligent-Tiering"),
    ]
    refused = client_a.get(url, {"category": "fun"})
    assert refused.status_code == 400 and refused.json()["field"] == "category"


def test_budget_adherence_is_the_share_of_the_weeks_cost_within_the_budget(
    teams: dict[str, Team],
) -> None:
    from insights.budgets.services import budget_create

    # 31 * 40 a month is 40 a day, 280 a week: 280 of the Web team's 400 are within it.
    budget_create(actor=None, name="Web", scope="team", team=teams["Web"], amount=D(31 * 40))

    scores = {s.team.name: s for s in team_scores_compute(actor=None, week=WEEK)}

    adherence = component(scores["Web team"], "budget_adherence")
    assert (D(adherence["eligible_cost"]), D(adherence["efficient_cost"])) == (400, 280)
    assert adherence["value"] == "70.00"
    assert component(scores["Data team"], "budget_adherence")["applicable"] is False
