"""The home page's "Needs attention" also lists budgets past a threshold this month and
recent anomalies nobody has reviewed, each to those who may see them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from insights.budgets.check import budgets_check
from insights.budgets.services import budget_create
from insights.models import Anomaly, AnomalyMonitor
from tests.conftest import TenantClient
from tests.insights.test_home import TODAY, page, pinned_today, world
from tests.insights.world import World

__all__ = ["pinned_today", "world"]


def anomaly(world: World, team_name: str, end: date, feedback: str = "open") -> Anomaly:
    team = world.web if team_name == "Web team" else world.data
    return Anomaly.objects.create(
        monitor=AnomalyMonitor.objects.get(),
        dimension="team",
        key=team.name,
        label=team.name,
        team=team,
        start_date=end - timedelta(days=1),
        end_date=end,
        expected=Decimal("10"),
        actual=Decimal("50"),
        impact=Decimal("40"),
        impact_percent=Decimal("400.0"),
        feedback=feedback,
    )


def test_budgets_past_a_threshold_and_unreviewed_anomalies_need_attention(
    client_a: TenantClient, world: World
) -> None:
    for team in (world.web, world.data):
        budget_create(
            actor=None,
            name=f"{team.name} monthly",
            scope="team",
            team=team,
            amount=Decimal("1.00"),  # crossed at once
            thresholds=[{"kind": "percent", "value": "90", "basis": "actual"}],
        )
    assert len(budgets_check(TODAY)) == 2
    anomaly(world, "Web team", TODAY - timedelta(days=2))
    anomaly(world, "Data team", TODAY - timedelta(days=3))
    anomaly(world, "Web team", TODAY - timedelta(days=30))  # long past
    anomaly(world, "Web team", TODAY - timedelta(days=1), feedback="expected")  # reviewed

    source, text = page(client_a, world.admin)
    _, lead_text = page(client_a, world.lead)

    assert "2 budgets crossed a threshold this month: Data team monthly, Web team monthly." in text
    assert "2 cost anomalies of the last 14 days not reviewed yet." in text
    assert 'href="/anomalies/?feedback=open"' in source
    # The lead of Web sees Web's alone.
    assert "1 budget crossed a threshold this month: Web team monthly." in lead_text
    assert "1 cost anomaly of the last 14 days not reviewed yet." in lead_text
