"""Teams' business metrics (orders, requests, active users a day): storing an upload all or
nothing, and reading the values back. Reading and checking the rows: `metric_rows`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from billing.models import Team
from insights.metric_rows import (
    MetricRow,
    TeamLookup,
    check_rows,
    read_csv,
    read_items,
)
from insights.models import BusinessMetric
from portal.audit.services import audit_record
from portal.users.roles import Role

METRIC_WRITERS = frozenset({Role.ADMIN, Role.TEAM_LEAD})


@dataclass(frozen=True)
class ImportResult:
    created: int
    replaced: int


def writable_teams(user: Any) -> QuerySet[Team]:
    """The teams whose metrics `user` may upload: any for admins, those they lead for team
    leads, none for anyone else."""
    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False) or role not in METRIC_WRITERS:
        return Team.objects.none()
    if role == Role.ADMIN:
        return Team.objects.all()
    return Team.objects.filter(leads=user)


def team_lookup(user: Any) -> TeamLookup:
    return TeamLookup.of(
        Team.objects.visible_to(user), writable_teams(user).values_list("pk", flat=True)
    )


@transaction.atomic
def business_metrics_import(*, actor: Any, rows_or_file: Any, source: str = "api") -> ImportResult:
    """Store an upload's values all or nothing, each replacing the value of its team,
    metric and day; one audit entry for the upload.

    `rows_or_file`: JSON items (a dict or a list of dicts), or CSV as bytes, text or a file.
    Raises MetricsRefused, naming every row at fault.
    """
    if not getattr(actor, "is_authenticated", False) or actor.role not in METRIC_WRITERS:
        raise PermissionDenied("Only admins and team leads upload business metrics.")
    if isinstance(rows_or_file, dict | list):
        raw = read_items(rows_or_file)
    else:
        data = rows_or_file.read() if hasattr(rows_or_file, "read") else rows_or_file
        raw = read_csv(data.encode() if isinstance(data, str) else bytes(data))
    rows = check_rows(raw, team_lookup(actor))
    existing = _existing_keys(rows)
    BusinessMetric.objects.bulk_create(
        [BusinessMetric(team=r.team, metric=r.metric, day=r.day, value=r.value) for r in rows],
        update_conflicts=True,
        unique_fields=["team", "metric", "day"],
        update_fields=["value", "updated_at"],
        batch_size=5000,
    )
    replaced = sum(1 for r in rows if (r.team.pk, r.metric, r.day) in existing)
    result = ImportResult(created=len(rows) - replaced, replaced=replaced)
    teams = sorted({r.team for r in rows}, key=lambda team: team.name)
    audit_record(
        actor=actor,
        action="businessmetric.import",
        instance=teams[0],
        after={
            "source": source,
            "created": result.created,
            "replaced": result.replaced,
            "teams": [team.name for team in teams],
            "metrics": sorted({r.metric for r in rows}),
            "first_day": min(r.day for r in rows).isoformat(),
            "last_day": max(r.day for r in rows).isoformat(),
        },
    )
    return result


def _existing_keys(rows: list[MetricRow]) -> set[tuple[int, str, date]]:
    """The (team, metric, day) keys of `rows` already stored, locked until the upload ends."""
    stored = BusinessMetric.objects.select_for_update().filter(
        team_id__in={r.team.pk for r in rows},
        metric__in={r.metric for r in rows},
        day__gte=min(r.day for r in rows),
        day__lte=max(r.day for r in rows),
    )
    return set(stored.values_list("team_id", "metric", "day"))


def business_metrics_for(
    *,
    user: Any,
    team: Team | None = None,
    metric: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[BusinessMetric]:
    """The values `user` may read, narrowed; `end` is exclusive."""
    rows = BusinessMetric.objects.visible_to(user).select_related("team")
    if team is not None:
        rows = rows.filter(team=team)
    if metric:
        rows = rows.filter(metric=metric)
    if start is not None:
        rows = rows.filter(day__gte=start)
    if end is not None:
        rows = rows.filter(day__lt=end)
    return rows.order_by("team__name", "metric", "day")
