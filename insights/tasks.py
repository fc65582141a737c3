"""Celery tasks of insights: the weekly team scores, on beat every Monday, and every stored
week again after the score settings change; daily, every tenant's anomaly monitor,
forecasts and budget check. The tasks of the anomaly monitor, the forecasts and the
notifications live beside their code and are imported here, where the worker looks."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from insights.anomalies.tasks import detect_anomalies_task
from insights.forecasts.tasks import compute_forecasts
from insights.notifications.tasks import send_notification
from insights.scores.compute import week_start
from insights.scores.settings import score_weeks_recompute
from insights.services import team_scores_compute
from portal.core.tasks import tenant_task
from portal.tenants.models import Tenant


@tenant_task(name="insights.tasks.team_scores", acks_late=True)
def team_scores(schema_name: str, week: str) -> int:
    """Compute (again) one tenant's scores of the week starting on `week` (ISO date)."""
    return len(team_scores_compute(actor=None, week=date.fromisoformat(week)))


@tenant_task(name="insights.tasks.recompute_scores", acks_late=True)
def recompute_scores(schema_name: str) -> int:
    """Every stored week of one tenant again, newest first, with its settings in force; safe
    to run again, as each week replaces what was stored for it."""
    return len(score_weeks_recompute())


@shared_task(name="insights.tasks.last_week_scores_everywhere")
def last_week_scores_everywhere() -> int:
    """Queue last week's scores of every tenant (beat, Mondays); safe to run twice."""
    last_week = week_start(timezone.localdate()) - timedelta(days=7)
    schemas = tenant_schemas()
    for schema in schemas:
        team_scores.delay(schema, last_week.isoformat())
    return len(schemas)


@tenant_task(name="insights.tasks.check_budgets", acks_late=True)
def check_budgets(schema_name: str) -> int:
    """Fire the tenant's crossed budget thresholds (each once per period) and notify the
    endpoints subscribed; safe to repeat, as a threshold fired in a period fires no more."""
    from insights.budgets.check import budgets_check

    return len(budgets_check(timezone.localdate()))


def tenant_schemas() -> list[str]:
    return list(
        Tenant.objects.exclude(schema_name=get_public_schema_name()).values_list(
            "schema_name", flat=True
        )
    )


@shared_task(name="insights.tasks.check_budgets_everywhere")
def check_budgets_everywhere() -> int:
    """Queue the budget check of every tenant (beat, daily)."""
    schemas = tenant_schemas()
    for schema in schemas:
        check_budgets.delay(schema)
    return len(schemas)


@shared_task(name="insights.tasks.daily_insights_everywhere")
def daily_insights_everywhere() -> int:
    """Queue every tenant's anomaly monitor and forecasts over the cost up to yesterday
    (beat, daily, before the budget check)."""
    schemas = tenant_schemas()
    for schema in schemas:
        detect_anomalies_task.delay(schema)
        compute_forecasts.delay(schema)
    return len(schemas)


__all__ = [
    "check_budgets",
    "check_budgets_everywhere",
    "compute_forecasts",
    "daily_insights_everywhere",
    "detect_anomalies_task",
    "last_week_scores_everywhere",
    "recompute_scores",
    "send_notification",
    "team_scores",
]
