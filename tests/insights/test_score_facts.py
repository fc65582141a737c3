"""Score components that need more than the usage type: commitments, the platform, tags,
resources, and a bill restated after the week was scored."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.models import CostCategory
from billing.models import TagKey, Team
from billing.services.customers import team_create
from insights.models import ScoreSettings, TeamScore
from insights.scores.recommendations import team_recommendations
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
WEEK = date(2026, 1, 5)
PER_MONTH = D("365.25") / 12 / 7


def usage(
    cost: str,
    usage_type: str = "BoxUsage:m5.large",
    *,
    day: str = "06",
    tags: dict[str, str] | None = None,
    **more: str,
) -> dict[str, Any]:
    return line(
        charge_period_start=f"2026-01-{day}T00:00:00Z",
        charge_period_end=f"2026-01-{day}T01:00:00Z",
        service_name="Amazon EC2",
        x_usage_type=usage_type,
        billed_cost=cost,
        effective_cost=cost,
        list_cost=cost,
        tags=json.dumps({"team": "web"} if tags is None else tags),
        **more,
    )


def team_category() -> CostCategory:
    return category_with(
        "Team",
        [
            regular("Web", cond("tag", "equals", "web", key="team")),
            regular("Data", cond("tag", "equals", "data", key="team")),
        ],
        splits=[{"source": "Shared", "method": "proportional", "targets": [{"value": "Web"}]}],
        default_value="Shared",
    )


@pytest.fixture
def load(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Ingest `rows` as January, allocate it by team and bind the team Web."""
    files = use_fake_files(tmp_path, monkeypatch)
    TagKey.objects.get_or_create(name="team")
    state: dict[str, Any] = {}

    def loader(rows: list[dict[str, Any]]) -> Team:
        ingest(files, rows)
        if "category" not in state:
            state["category"] = team_category()
            state["team"] = team_create(actor=None, name="Web team")
            team_cost_binding_set(
                actor=None, team=state["team"], category=state["category"], value="Web"
            )
        run(state["category"], JAN)
        team: Team = state["team"]
        return team

    return loader


def components(team: Team) -> dict[str, dict[str, Any]]:
    (score,) = team_scores_compute(actor=None, week=WEEK, team_ids=[team.pk])
    return {c["key"]: c for c in score.components}


def test_commitment_coverage_counts_what_a_savings_plan_covered(load: Any) -> None:
    team = load(
        [
            usage("300"),
            usage("100", commitment_discount_id="arn:sp", commitment_discount_type="Savings Plan"),
        ]
    )

    found = components(team)

    commitment = found["commitment_coverage"]
    assert (commitment["eligible_cost"], commitment["efficient_cost"]) == ("400", "100")
    assert commitment["value"] == "25.00"
    assert D(commitment["potential_saving"]) == (D(60) * PER_MONTH).quantize(D("0.01"))
    # Covered usage is not on demand: Spot's base is the 300 USD left on demand.
    assert found["spot"]["eligible_cost"] == "300"
    assert found["graviton"]["eligible_cost"] == "400"


def test_windows_instances_are_not_graviton_eligible(load: Any) -> None:
    team = load(
        [
            usage("300", x_operation="RunInstances"),
            usage("200", x_operation="RunInstances:0002"),  # Windows
        ]
    )

    found = components(team)

    assert found["graviton"]["eligible_cost"] == "300"
    assert found["commitment_coverage"]["eligible_cost"] == "500"


def test_tag_compliance_counts_untagged_cost_split_to_the_team(load: Any) -> None:
    team = load([usage("300"), usage("100", "EBS:VolumeUsage.gp3", tags={})])

    tagging = components(team)["tag_compliance"]

    # The untagged 100 USD reach Web through the Shared split; 300 of 400 carry the key.
    assert (D(tagging["eligible_cost"]), D(tagging["efficient_cost"])) == (400, 300)
    assert tagging["value"] == "75.00" and tagging["potential_saving"] == "0.00"


def test_required_tag_keys_from_the_settings_accept_their_aliases(load: Any) -> None:
    TagKey.objects.create(name="cost-center", aliases=["CostCenter"])
    ScoreSettings.objects.create(required_tag_keys=["team", "cost-center"])
    team = load(
        [
            usage("300", tags={"team": "web", "CostCenter": "42"}),
            usage("100", tags={"team": "web", "cost-center": ""}),  # empty: not carried
        ]
    )

    tagging = components(team)["tag_compliance"]

    assert (tagging["eligible_cost"], tagging["value"]) == ("400", "75.00")


def test_recommendations_name_the_largest_resources(load: Any) -> None:
    team = load(
        [
            usage("200", "BoxUsage:m5.xlarge", resource_id="i-0big"),
            usage("50", "BoxUsage:m5.xlarge", resource_id="i-0small"),
            usage("30", "BoxUsage:m5.xlarge"),  # no resource id
        ]
    )

    found = [
        (r.resource_id, r.monthly_saving)
        for r in team_recommendations(team, WEEK)
        if r.component == "graviton"
    ]

    # Graviton saves 20 %: of 200 and 50 USD for the two instances, of 30 USD tied to none.
    assert found == [
        ("i-0big", (D(40) * PER_MONTH).quantize(D("0.01"))),
        ("i-0small", (D(10) * PER_MONTH).quantize(D("0.01"))),
        (None, (D(6) * PER_MONTH).quantize(D("0.01"))),
    ]
    big = next(
        r
        for r in team_recommendations(team, WEEK)
        if r.resource_id == "i-0big" and r.component == "graviton"
    )
    assert "m5.xlarge (i-0big) cost 200.00 USD" in big.reasoning


def test_a_restated_bill_replaces_the_weeks_score(load: Any) -> None:
    load([usage("300", "BoxUsage:m5.large"), usage("100", "BoxUsage:m6g.large")])
    team_scores_compute(actor=None, week=WEEK)

    team = load([usage("100", "BoxUsage:m5.large"), usage("300", "BoxUsage:m6g.large")])
    team_scores_compute(actor=None, week=WEEK)

    stored = TeamScore.objects.get(team=team, week=WEEK)
    graviton = next(c for c in stored.components if c["key"] == "graviton")
    assert graviton["value"] == "75.00"


def test_the_team_leads_home_lists_the_weeks_top_recommendations(
    load: Any, client_a: TenantClient
) -> None:
    team = load(
        [
            usage("200", "BoxUsage:m5.xlarge", resource_id="i-0big"),
            usage("80", "EBS:VolumeUsage.gp2", resource_id="vol-0old"),
        ]
    )
    team_scores_compute(actor=None, week=WEEK)
    lead = make_user(Role.TEAM_LEAD, "advice-lead")
    team.leads.add(lead)
    client_a.force_login(lead)

    stored = TeamScore.objects.get(team=team, week=WEEK).recommendations
    page = client_a.get("/").content.decode()

    # Spot 55 %, then Graviton and a Savings Plan 20 % of 200 USD; gp3 20 % of 80 USD.
    assert [(r["current"], r["suggested"], r["resource_id"]) for r in stored[:4]] == [
        ("on-demand", "Spot", "i-0big"),
        ("m5.xlarge", "m7g.xlarge", "i-0big"),
        ("on-demand", "Savings Plan", "i-0big"),
        ("gp2", "gp3", "vol-0old"),
    ]
    assert "Top recommendations" in page
    assert "m5.xlarge &rarr; m7g.xlarge" in page and "i-0big" in page
    assert "vol-0old" not in page  # only the three largest


def test_the_settings_say_which_tag_keys_are_required_by_default(
    load: Any, client_a: TenantClient, admin_a: Any
) -> None:
    load([usage("10")])
    client_a.force_login(admin_a)

    answer = client_a.get("/api/v1/scores/settings/").json()
    page = client_a.get("/scores/settings/").content.decode()

    assert answer["required_tag_keys"] == [] and answer["default_required_tag_keys"] == ["team"]
    assert "the keys your team rules read are required: team." in page


def test_allocating_a_scored_month_again_queues_its_weeks(
    load: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from insights import tasks

    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.team_scores, "delay", lambda *args: queued.append(args))
    load([usage("300")])
    team_scores_compute(actor=None, week=WEEK)
    team_scores_compute(actor=None, week=date(2026, 1, 26))

    with django_capture_on_commit_callbacks(execute=True):
        load([usage("100")])  # a restated January, allocated again

    assert sorted(week for _, week in queued) == ["2026-01-05", "2026-01-26"]
