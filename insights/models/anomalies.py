"""The anomaly monitor: how it judges a day's cost, and the anomalies it found."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from portal.core.access import ScopedQuerySet

# What the monitor watches: daily cost per value of each of these.
ANOMALY_DIMENSIONS = ("team", "billing_unit", "account", "service")
ROOT_CAUSE_DIMENSIONS = ("service", "account", "region", "usage_type")


class AnomalyMonitor(models.Model):
    """The tenant's one monitor: every team, billing unit, account and service is watched
    without set-up; these settings say how unusual a day must be to count, and which
    anomalies are worth a notification."""

    name = models.CharField(max_length=200, unique=True, default="All costs")
    active = models.BooleanField(default=True)
    metric = models.CharField(
        max_length=16,
        choices=[("billed_cost", "Billed cost"), ("effective_cost", "Amortized cost")],
        default="billed_cost",
    )
    # A day is anomalous when it is this many robust deviations (scaled MAD) above expected.
    sensitivity = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("4.00"))
    # Days of history the baseline reads (rolling median and MAD).
    baseline_days = models.PositiveSmallIntegerField(default=28)
    # Anomalies below either figure are recorded but not notified.
    notify_min_impact = models.DecimalField(
        max_digits=18, decimal_places=2, default=Decimal("100.00")
    )
    notify_min_percent = models.DecimalField(
        max_digits=7, decimal_places=2, default=Decimal("20.00")
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sensitivity__gt=0), name="monitor_sensitivity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(baseline_days__gte=7), name="monitor_baseline_week"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AnomalyQuerySet(ScopedQuerySet["Anomaly"]):
    readable_by = frozenset({"admin", "finance", "reseller_admin", "team_lead"})

    def for_team_lead(self, user: object) -> AnomalyQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class Anomaly(models.Model):
    """Days of one series' cost well above what its recent history expects."""

    class Feedback(models.TextChoices):
        OPEN = "open", "Not reviewed"
        EXPECTED = "expected", "Expected"
        UNEXPECTED = "unexpected", "Not expected"

    monitor = models.ForeignKey(AnomalyMonitor, on_delete=models.CASCADE, related_name="anomalies")
    dimension = models.CharField(
        max_length=16, choices=[(d, d.replace("_", " ").capitalize()) for d in ANOMALY_DIMENSIONS]
    )
    key = models.CharField(max_length=512, help_text="The dimension's value, e.g. a team name.")
    label = models.CharField(max_length=512, blank=True)
    # The team whose cost it is (the team series, or an account a team owns): who may see it.
    team = models.ForeignKey(
        "billing.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="anomalies"
    )
    start_date = models.DateField()
    end_date = models.DateField(help_text="The last anomalous day (inclusive).")
    expected = models.DecimalField(max_digits=24, decimal_places=4)
    actual = models.DecimalField(max_digits=24, decimal_places=4)
    impact = models.DecimalField(max_digits=24, decimal_places=4)
    impact_percent = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # [{"dimension", "value", "label", "impact", "share"}, ...] largest first.
    root_causes = models.JSONField(default=list, blank=True)
    # [{"date", "expected", "actual"}, ...] the days around it, for its chart.
    daily = models.JSONField(default=list, blank=True)
    feedback = models.CharField(max_length=12, choices=Feedback.choices, default=Feedback.OPEN)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = AnomalyQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-impact"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "dimension", "key", "start_date"], name="anomaly_once"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="anomaly_days"
            ),
        ]
        indexes = [models.Index(fields=["dimension", "key", "end_date"])]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()} {self.label or self.key} from {self.start_date}"
