"""Anomalies and the monitor as the API writes them, and an anomaly's stored JSON (its root
causes and days) read back as exact figures, for the API and the pages alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from insights.anomalies.feedback import BASELINE_DAYS
from insights.models import Anomaly, AnomalyMonitor
from portal.core.serializers import ExactDecimalField

ROOT_CAUSE_LABELS = {
    "service": "Service",
    "account": "Account",
    "region": "Region",
    "usage_type": "Usage type",
}


@dataclass(frozen=True)
class RootCause:
    dimension: str
    value: str
    label: str
    impact: Decimal
    share: Decimal | None  # percent of the anomaly's impact; None when it had none

    @property
    def dimension_label(self) -> str:
        return ROOT_CAUSE_LABELS.get(self.dimension, self.dimension.replace("_", " ").title())


@dataclass(frozen=True)
class Day:
    date: date
    expected: Decimal | None  # None before the history allowed a baseline
    actual: Decimal


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(number: Decimal | None) -> str | None:
    return None if number is None else format(number, "f")


def root_causes_of(anomaly: Anomaly) -> list[RootCause]:
    """The stored contributors by dimension (service, account, region, usage type), each's
    largest first; a missing share is the contributor's impact over the anomaly's."""
    causes = []
    for item in anomaly.root_causes or []:
        if not isinstance(item, dict):
            continue
        impact = _decimal(item.get("impact")) or Decimal(0)
        share = _decimal(item.get("share"))
        if share is None and anomaly.impact > 0:
            share = (impact * 100 / anomaly.impact).quantize(Decimal("0.1"))
        value = str(item.get("value", ""))
        causes.append(
            RootCause(
                dimension=str(item.get("dimension", "")),
                value=value,
                label=str(item.get("label") or value),
                impact=impact,
                share=share,
            )
        )
    order = list(ROOT_CAUSE_LABELS)
    return sorted(
        causes,
        key=lambda c: (order.index(c.dimension) if c.dimension in order else len(order), -c.impact),
    )


def daily_of(anomaly: Anomaly) -> list[Day]:
    days = []
    for item in anomaly.daily or []:
        try:
            day = date.fromisoformat(str(item["date"]))
        except (KeyError, TypeError, ValueError):
            continue
        days.append(
            Day(day, _decimal(item.get("expected")), _decimal(item.get("actual")) or Decimal(0))
        )
    return sorted(days, key=lambda d: d.date)


def anomalies_filtered(
    anomalies: QuerySet[Anomaly],
    *,
    dimension: str = "",
    feedback: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Anomaly]:
    """Those of a dimension, a feedback status, and with a day from `start` to `end`
    (both included)."""
    if dimension:
        anomalies = anomalies.filter(dimension=dimension)
    if feedback:
        anomalies = anomalies.filter(feedback=feedback)
    if start:
        anomalies = anomalies.filter(end_date__gte=start)
    if end:
        anomalies = anomalies.filter(start_date__lte=end)
    return anomalies


ROOT_CAUSE_SCHEMA = {
    "type": "array",
    "description": "The contributors to the impact, largest first.",
    "items": {
        "type": "object",
        "properties": {
            "dimension": {"type": "string", "example": "service"},
            "value": {"type": "string"},
            "label": {"type": "string"},
            "impact": {"type": "string", "format": "decimal"},
            "share": {
                "type": "string",
                "format": "decimal",
                "nullable": True,
                "description": "Percent of the anomaly's impact, e.g. 62.5.",
            },
        },
        "required": ["dimension", "value", "label", "impact", "share"],
    },
}
DAILY_SCHEMA = {
    "type": "array",
    "description": "The days around the anomaly: its cost and what was expected.",
    "items": {
        "type": "object",
        "properties": {
            "date": {"type": "string", "format": "date"},
            "expected": {
                "type": "string",
                "format": "decimal",
                "nullable": True,
                "description": "None on days before the history allowed a baseline.",
            },
            "actual": {"type": "string", "format": "decimal"},
        },
        "required": ["date", "expected", "actual"],
    },
}


class AnomalySerializer(serializers.ModelSerializer[Anomaly]):
    dimension_label = serializers.CharField(source="get_dimension_display", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True)
    expected = ExactDecimalField(read_only=True)
    actual = ExactDecimalField(read_only=True)
    impact = ExactDecimalField(read_only=True)
    impact_percent = ExactDecimalField(
        read_only=True,
        allow_null=True,
        help_text="The impact as a percent of the expected cost; null for a new cost, when "
        "next to nothing was expected.",
    )
    root_causes = serializers.SerializerMethodField()
    daily = serializers.SerializerMethodField()
    feedback_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Anomaly
        fields = [
            "id",
            "dimension",
            "dimension_label",
            "key",
            "label",
            "team",
            "team_name",
            "start_date",
            "end_date",
            "expected",
            "actual",
            "impact",
            "impact_percent",
            "currency",
            "root_causes",
            "daily",
            "feedback",
            "feedback_by",
            "feedback_at",
            "detected_at",
            "notified_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ROOT_CAUSE_SCHEMA)
    def get_root_causes(self, anomaly: Anomaly) -> list[dict[str, str | None]]:
        return [
            {
                "dimension": c.dimension,
                "value": c.value,
                "label": c.label,
                "impact": format(c.impact, "f"),
                "share": _text(c.share),
            }
            for c in root_causes_of(anomaly)
        ]

    @extend_schema_field(DAILY_SCHEMA)
    def get_daily(self, anomaly: Anomaly) -> list[dict[str, str | None]]:
        return [
            {
                "date": d.date.isoformat(),
                "expected": _text(d.expected),
                "actual": format(d.actual, "f"),
            }
            for d in daily_of(anomaly)
        ]


class AnomalyFeedbackSerializer(serializers.Serializer[Any]):
    feedback = serializers.ChoiceField(
        choices=Anomaly.Feedback.choices,
        help_text="expected, unexpected, or open (not reviewed) again.",
    )


class AnomalyMonitorSerializer(serializers.ModelSerializer[AnomalyMonitor]):
    sensitivity = ExactDecimalField(read_only=True)
    notify_min_impact = ExactDecimalField(read_only=True)
    notify_min_percent = ExactDecimalField(read_only=True)

    class Meta:
        model = AnomalyMonitor
        fields = [
            "id",
            "name",
            "active",
            "metric",
            "sensitivity",
            "baseline_days",
            "notify_min_impact",
            "notify_min_percent",
            "last_run_at",
        ]
        read_only_fields = fields


class AnomalyMonitorInputSerializer(serializers.Serializer[Any]):
    """The settings to change; those not given stay as they are."""

    active = serializers.BooleanField(required=False)
    metric = serializers.ChoiceField(
        choices=AnomalyMonitor._meta.get_field("metric").choices or [], required=False
    )
    sensitivity = ExactDecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text="Robust deviations (scaled MAD) above the expected cost that make a day "
        "anomalous; above 0.",
    )
    baseline_days = serializers.IntegerField(
        min_value=BASELINE_DAYS[0],
        max_value=BASELINE_DAYS[1],
        required=False,
        help_text="Days of history the baseline reads.",
    )
    notify_min_impact = ExactDecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="Anomalies with a smaller impact (money) are recorded, not notified.",
    )
    notify_min_percent = ExactDecimalField(
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text="Anomalies with a smaller impact percent are recorded, not notified.",
    )
