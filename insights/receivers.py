"""Scores follow the allocation: when a month of the teams' category is allocated again
(after a restated bill or changed rules), its weeks that have stored scores are computed
again in the background, replacing them. The anomaly monitor, the forecasts and the budget
check follow new cost: after each ingest, and after a recent month is allocated again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from allocation.signals import run_succeeded
from billing.signals import bills_published
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


@receiver(bills_published, dispatch_uid="insights.follow_new_bills")
def follow_new_bills(sender: Any, months: list[str], **kwargs: Any) -> None:
    schema = connection.schema_name  # type: ignore[attr-defined]
    transaction.on_commit(lambda: _queue_daily(schema))


@receiver(run_succeeded, dispatch_uid="insights.follow_recent_allocation")
def follow_recent_allocation(sender: Any, run: Any, **kwargs: Any) -> None:
    """Team and billing unit cost come from allocation runs; an old month's run changes
    no recent day, and is left to the nightly run."""
    recent = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    if run.period >= recent:
        schema = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(lambda: _queue_daily(schema))


def _queue_daily(schema: str) -> None:
    from insights.tasks import check_budgets, compute_forecasts, detect_anomalies_task

    detect_anomalies_task.delay(schema)
    compute_forecasts.delay(schema)
    check_budgets.delay(schema)
