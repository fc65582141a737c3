"""Scores follow the allocation: when a month of the teams' category is allocated again
(after a restated bill or changed rules), its weeks that have stored scores are computed
again in the background, replacing them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.dispatch import receiver

from allocation.signals import run_succeeded
from insights.models import TeamCostBinding, TeamScore
from insights.scores.compute import week_start


@receiver(run_succeeded, dispatch_uid="insights.rescore_allocated_month")
def rescore_allocated_month(sender: Any, run: Any, **kwargs: Any) -> None:
    if not TeamCostBinding.objects.filter(category_id=run.category_id).exists():
        return
    first = week_start(run.period)
    following = (run.period + timedelta(days=32)).replace(day=1)
    weeks = sorted(
        set(
            TeamScore.objects.filter(week__gte=first, week__lt=following).values_list(
                "week", flat=True
            )
        )
    )
    if weeks:
        schema = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(lambda: _queue(schema, weeks))


def _queue(schema: str, weeks: list[Any]) -> None:
    from insights.tasks import team_scores  # the tasks import the services

    for week in weeks:
        team_scores.delay(schema, week.isoformat())
