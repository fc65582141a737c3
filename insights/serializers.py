"""The explorer's answer as JSON and CSV: amounts as exact decimal strings."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from insights.query import CostAnswer, CostGroup, dimension_label


def amount_text(amount: Decimal) -> str:
    """Exact, without exponent or trailing zeros beyond the cent ("12.50", "0.000123")."""
    text = format(amount.normalize(), "f") if amount else "0"
    if "." not in text:
        return f"{text}.00"
    whole, fraction = text.split(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _percent(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def group_json(group: CostGroup) -> dict[str, Any]:
    return {
        "key": group.key,
        "keys": list(group.keys),
        "total": amount_text(group.total),
        "previous_total": amount_text(group.previous_total),
        "change": amount_text(group.change),
        "change_percent": _percent(group.change_percent),
        "series": [
            {"date": point.date.isoformat(), "amount": amount_text(point.amount)}
            for point in group.series
        ],
    }


def answer_json(answer: CostAnswer) -> dict[str, Any]:
    query = answer.query
    previous_start, previous_end = query.previous
    return {
        "currency": answer.currency,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "previous_start": previous_start.isoformat(),
        "previous_end": previous_end.isoformat(),
        "granularity": query.granularity,
        "metric": query.metric,
        "group_by": list(query.group_by),
        "group_by_labels": [dimension_label(name) for name in query.group_by],
        "total": amount_text(answer.total),
        "previous_total": amount_text(answer.previous_total),
        "change": amount_text(answer.change),
        "change_percent": _percent(answer.change_percent),
        "locked_filters": [
            {"dimension": dimension, "values": list(values)}
            for dimension, values in answer.locked_filters
        ],
        "groups": [group_json(group) for group in answer.groups],
    }


def answer_csv(answer: CostAnswer) -> str:
    """One row per group and date, then the group's totals: what the page shows."""
    query = answer.query
    out = io.StringIO()
    writer = csv.writer(out)
    labels = [dimension_label(name) for name in query.group_by] or ["Group"]
    writer.writerow([*labels, "date", query.metric, "currency"])
    for group in answer.groups:
        keys = list(group.keys) or ["Total"]
        for point in group.series:
            writer.writerow(
                [*keys, point.date.isoformat(), amount_text(point.amount), answer.currency]
            )
    writer.writerow([])
    writer.writerow([*labels, "total", "previous_total", "change", "change_percent", "currency"])
    for group in answer.groups:
        keys = list(group.keys) or ["Total"]
        writer.writerow(
            [
                *keys,
                amount_text(group.total),
                amount_text(group.previous_total),
                amount_text(group.change),
                _percent(group.change_percent) or "",
                answer.currency,
            ]
        )
    return out.getvalue()


class PointSerializer(serializers.Serializer):
    date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=40, decimal_places=12, coerce_to_string=True)


class CostGroupSerializer(serializers.Serializer):
    """Schema only: answers are built by `group_json`."""

    key = serializers.CharField(help_text='The group\'s values joined by " / ", or "Others".')
    keys = serializers.ListField(child=serializers.CharField(), help_text="One per group_by.")
    total = serializers.CharField(help_text="Exact decimal.")
    previous_total = serializers.CharField()
    change = serializers.CharField()
    change_percent = serializers.CharField(allow_null=True)
    series = PointSerializer(many=True)


class LockedFilterSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())


class CostAnswerSerializer(serializers.Serializer):
    """Schema only: answers are built by `answer_json`."""

    currency = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()
    granularity = serializers.CharField()
    metric = serializers.CharField()
    group_by = serializers.ListField(child=serializers.CharField())
    group_by_labels = serializers.ListField(child=serializers.CharField())
    total = serializers.CharField()
    previous_total = serializers.CharField()
    change = serializers.CharField()
    change_percent = serializers.CharField(allow_null=True)
    locked_filters = LockedFilterSerializer(many=True)
    groups = CostGroupSerializer(many=True)


class CostOptionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like the attribute


class CostOptionsSerializer(serializers.Serializer):
    """Schema only: built by `insights.selectors.explorer_options`."""

    metrics = CostOptionSerializer(many=True)
    dimensions = CostOptionSerializer(many=True)
    locked_filters = LockedFilterSerializer(many=True)


class CostValuesSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())


class ScoreComponentSerializer(serializers.Serializer):
    key = serializers.CharField()
    applicable = serializers.BooleanField()
    value = serializers.CharField(allow_null=True, help_text="Percent, exact decimal.")
    weight = serializers.CharField()
    target = serializers.CharField(help_text="Percent at which the component scores 100.")
    eligible_cost = serializers.CharField()
    efficient_cost = serializers.CharField()
    potential_saving = serializers.CharField(help_text="Estimated monthly saving left.")


class TeamScoreSerializer(serializers.Serializer):
    week = serializers.SerializerMethodField(help_text="ISO week, e.g. 2026-W45.")
    week_start = serializers.DateField(source="week")
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    components = ScoreComponentSerializer(many=True)

    def get_week(self, score: Any) -> str:
        return f"{score.week:%G-W%V}"


class RecommendationSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="compute, storage, database, network or ai")
    component = serializers.CharField()
    owner_account = serializers.CharField()
    owner_team = serializers.CharField()
    resource_id = serializers.CharField(allow_null=True)
    current = serializers.CharField()
    suggested = serializers.CharField()
    monthly_saving = serializers.DecimalField(max_digits=20, decimal_places=2)
    reasoning = serializers.CharField()
