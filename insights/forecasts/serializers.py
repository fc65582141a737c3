"""Stored forecasts as the API gives them: amounts as strings with cents, as stored."""

from __future__ import annotations

from rest_framework import serializers

from insights.models import StoredForecast


class ForecastPointSerializer(serializers.Serializer[dict[str, str]]):
    date = serializers.DateField(help_text="A day, or the first day of a month.")
    expected = serializers.CharField(help_text="Expected cost, e.g. 1234.56.")
    lower80 = serializers.CharField(help_text="The 80 % prediction interval's lower bound.")
    upper80 = serializers.CharField()
    lower95 = serializers.CharField(help_text="The 95 % prediction interval's lower bound.")
    upper95 = serializers.CharField()


class StoredForecastSerializer(serializers.ModelSerializer[StoredForecast]):
    points = ForecastPointSerializer(many=True, read_only=True)
    mape = serializers.DecimalField(
        max_digits=9,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="The backtest's mean absolute percentage error, in percent.",
    )
    team_name = serializers.SerializerMethodField()

    class Meta:
        model = StoredForecast
        fields = [
            "id",
            "scope",
            "key",
            "label",
            "team",
            "team_name",
            "frequency",
            "metric",
            "currency",
            "method",
            "history_from",
            "history_to",
            "points",
            "mape",
            "backtest_note",
            "reason",
            "computed_at",
        ]
        read_only_fields = fields

    def get_team_name(self, forecast: StoredForecast) -> str | None:
        return forecast.team.name if forecast.team_id and forecast.team else None
