"""Forecasts computed in the background and kept until the next computation."""

from __future__ import annotations

from django.db import models

from portal.core.access import ScopedQuerySet

FORECAST_SCOPES = ("tenant", "team", "billing_unit", "service")


class StoredForecastQuerySet(ScopedQuerySet["StoredForecast"]):
    readable_by = frozenset({"admin", "finance", "reseller_admin", "team_lead"})

    def for_team_lead(self, user: object) -> StoredForecastQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class StoredForecast(models.Model):
    """One series' forecast: daily (up to 3 months) or monthly (up to 18 months) ahead,
    with its intervals and backtest; or, when the history is too short, the reason."""

    scope = models.CharField(
        max_length=16, choices=[(s, s.replace("_", " ").capitalize()) for s in FORECAST_SCOPES]
    )
    key = models.CharField(max_length=512, blank=True, help_text="Empty for the tenant.")
    label = models.CharField(max_length=512, blank=True)
    team = models.ForeignKey(
        "billing.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="forecasts"
    )
    frequency = models.CharField(max_length=8, choices=[("daily", "Daily"), ("monthly", "Monthly")])
    metric = models.CharField(max_length=16, default="billed_cost")
    currency = models.CharField(max_length=3, default="USD")
    method = models.CharField(max_length=200, blank=True)
    history_from = models.DateField(null=True, blank=True)
    history_to = models.DateField(null=True, blank=True)
    # [{"date", "expected", "lower80", "upper80", "lower95", "upper95"}, ...] as strings.
    points = models.JSONField(default=list, blank=True)
    mape = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True)
    backtest_note = models.CharField(max_length=500, blank=True)
    # Why there is no forecast (too little history), when `points` is empty.
    reason = models.CharField(max_length=500, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    objects = StoredForecastQuerySet.as_manager()

    class Meta:
        ordering = ["scope", "label", "frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "frequency", "metric"], name="forecast_one_per_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.frequency} forecast of {self.scope} {self.label or self.key}".strip()
