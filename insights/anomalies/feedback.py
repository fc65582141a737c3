"""Writes people make to the anomaly monitor: feedback on an anomaly, the monitor's settings.

Each is checked (a refusal names the field at fault), saved and audited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from insights.models import Anomaly, AnomalyMonitor
from portal.audit.services import audit_record, snapshot
from portal.core.errors import ApplicationError
from portal.core.fields import checked_decimal
from portal.users.roles import TENANT_WIDE_ROLES, Role

# Tenant-wide roles give feedback on every anomaly; team leads on their teams' own.
FEEDBACK_ROLES = frozenset({*TENANT_WIDE_ROLES, Role.TEAM_LEAD})
MONITOR_READERS = TENANT_WIDE_ROLES
MONITOR_FIELDS = (
    "sensitivity",
    "baseline_days",
    "notify_min_impact",
    "notify_min_percent",
    "metric",
    "active",
)
BASELINE_DAYS = (7, 90)


def monitor_get() -> AnomalyMonitor:
    """The tenant's one monitor (its migration makes it; made again if it was removed)."""
    monitor = AnomalyMonitor.objects.order_by("pk").first()
    return monitor or AnomalyMonitor.objects.create()


def may_give_feedback(user: Any, anomaly: Anomaly) -> bool:
    if not getattr(user, "is_authenticated", False) or user.role not in FEEDBACK_ROLES:
        return False
    if user.role in TENANT_WIDE_ROLES:
        return True
    team = anomaly.team
    return team is not None and team.leads.filter(pk=user.pk).exists()


def may_change_monitor(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role == Role.ADMIN)


@transaction.atomic
def anomaly_feedback_set(*, actor: Any, anomaly: Anomaly, feedback: str) -> Anomaly:
    """Mark the anomaly expected, not expected, or open again; records who and when."""
    if not may_give_feedback(actor, anomaly):
        raise PermissionDenied(
            "Only admins, finance, reseller admins and the team's leads mark an anomaly."
        )
    if feedback not in Anomaly.Feedback.values:
        choices = ", ".join(Anomaly.Feedback.values)
        raise ApplicationError(
            f"feedback is one of {choices}, not {feedback!r}.", code="invalid", field="feedback"
        )
    locked = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
    before = _feedback_state(locked)
    locked.feedback = feedback
    reviewed = feedback != Anomaly.Feedback.OPEN
    locked.feedback_by = actor if reviewed else None
    locked.feedback_at = timezone.now() if reviewed else None
    locked.save(update_fields=["feedback", "feedback_by", "feedback_at", "updated_at"])
    audit_record(
        actor=actor,
        action="anomaly.feedback",
        instance=locked,
        before=before,
        after=_feedback_state(locked),
    )
    return locked


def _feedback_state(anomaly: Anomaly) -> dict[str, Any]:
    return {
        "feedback": anomaly.feedback,
        "feedback_by": anomaly.feedback_by_id,
        "feedback_at": anomaly.feedback_at.isoformat() if anomaly.feedback_at else None,
    }


@transaction.atomic
def monitor_update(*, actor: Any, monitor: AnomalyMonitor, **fields: Any) -> AnomalyMonitor:
    """Change the monitor's settings: how unusual a day must be, and which anomalies are
    worth a notification."""
    if not may_change_monitor(actor):
        raise PermissionDenied("Only admins change the anomaly monitor.")
    for name in fields:
        if name not in MONITOR_FIELDS:
            raise ApplicationError(
                f"{name} is not a setting of the monitor; it has {', '.join(MONITOR_FIELDS)}.",
                code="unknown_field",
                field=name,
            )
    locked = AnomalyMonitor.objects.select_for_update().get(pk=monitor.pk)
    before = snapshot(locked)
    for name, value in fields.items():
        setattr(locked, name, _checked(name, value))
    try:
        locked.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ApplicationError(
            f"{field}: {' '.join(messages)}", code="invalid", field=field
        ) from error
    locked.save()
    locked.refresh_from_db()  # decimals as the columns keep them
    after = snapshot(locked)
    if after != before:
        audit_record(
            actor=actor, action="anomalymonitor.update", instance=locked, before=before, after=after
        )
    return locked


def _checked(name: str, value: Any) -> Any:
    if name == "active":
        if not isinstance(value, bool):
            raise _refused(name, "is true or false")
        return value
    if name == "metric":
        choices = [key for key, _ in AnomalyMonitor._meta.get_field("metric").choices or ()]
        if value not in choices:
            raise _refused(name, f"is one of {', '.join(map(str, choices))}, not {value!r}")
        return value
    if name == "baseline_days":
        low, high = BASELINE_DAYS
        days = _whole(value)
        if days is None or not low <= days <= high:
            raise _refused(name, f"is a whole number of days from {low} to {high}")
        return days
    return _decimal(name, value)


def _decimal(name: str, value: Any) -> Decimal:
    field = AnomalyMonitor._meta.get_field(name)
    if isinstance(value, bool) or value is None:
        raise _refused(name, "is a decimal number")
    try:
        number = checked_decimal(
            value,
            max_digits=getattr(field, "max_digits", None),
            decimal_places=getattr(field, "decimal_places", None),
        )
    except ValueError as error:
        raise ApplicationError(f"{name}: {error}", code="invalid", field=name) from None
    if name == "sensitivity" and number <= 0:
        raise _refused(name, "is above zero (deviations from the expected cost)")
    if number < 0:
        raise _refused(name, "is zero or more")
    return number


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else None


def _refused(name: str, rule: str) -> ApplicationError:
    return ApplicationError(f"{name} {rule}.", code="invalid", field=name)
