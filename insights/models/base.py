"""What the explorer needs beyond the bill and the allocation: which cost is a team's."""

from __future__ import annotations

from django.db import models

from portal.core.access import ScopedQuerySet


class TeamCostBindingQuerySet(ScopedQuerySet["TeamCostBinding"]):
    def for_team_lead(self, user: object) -> TeamCostBindingQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class TeamCostBinding(models.Model):
    """A team's cost: what the latest allocation runs give one value of a cost category.

    All teams are bound to values of one category, so that no cost is any two teams'.
    """

    team = models.OneToOneField(
        "billing.Team", on_delete=models.CASCADE, related_name="cost_binding"
    )
    category = models.ForeignKey(
        "allocation.CostCategory", on_delete=models.PROTECT, related_name="team_bindings"
    )
    value = models.CharField(
        max_length=200, help_text="The category value whose cost is the team's."
    )

    objects = TeamCostBindingQuerySet.as_manager()

    class Meta:
        ordering = ["team__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "value"], name="teambinding_one_team_per_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} = {self.category} {self.value!r}"


class ScoreSettings(models.Model):
    """The tenant's choices for team credit scores: one row (defaults when there is none).

    `weights` and `targets` map a component key (see `insights.scores.signals.COMPONENTS`)
    to its weight and to the percent at which it scores 100.
    """

    weights = models.JSONField(default=dict, blank=True)
    targets = models.JSONField(default=dict, blank=True)
    required_tag_keys = models.JSONField(
        default=list, blank=True, help_text='Tag keys every cost should carry, e.g. ["team"].'
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Score settings"


class TeamScoreQuerySet(ScopedQuerySet["TeamScore"]):
    def for_team_lead(self, user: object) -> TeamScoreQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class TeamScore(models.Model):
    """A team's efficiency score for one ISO week (Monday to Monday, UTC).

    `components`: one dict per component with key, value (percent, or null when not
    applicable), weight, target, eligible_cost, efficient_cost, potential_saving (monthly)
    and applicable. `score` is null when no component applies. `recommendations`: the
    week's largest, as the recommendations API gives them.
    """

    team = models.ForeignKey("billing.Team", on_delete=models.CASCADE, related_name="scores")
    week = models.DateField(help_text="The Monday the week starts on.")
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    components = models.JSONField(default=list)
    recommendations = models.JSONField(
        default=list, blank=True, help_text="The week's largest recommendations, as the API's."
    )
    computed_at = models.DateTimeField(auto_now=True)

    objects = TeamScoreQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "-week"]
        constraints = [
            models.UniqueConstraint(fields=["team", "week"], name="teamscore_one_per_week"),
            models.CheckConstraint(
                condition=models.Q(week__week_day=2), name="teamscore_week_starts_monday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.week:%G-W%V}: {self.score}"


class BusinessMetricQuerySet(ScopedQuerySet["BusinessMetric"]):
    def for_team_lead(self, user: object) -> BusinessMetricQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class BusinessMetric(models.Model):
    """A team's own measure of output on one day (orders, requests, active users), so that
    its cost can be read per unit. A later upload of the same team, metric and day
    replaces the value."""

    team = models.ForeignKey(
        "billing.Team", on_delete=models.CASCADE, related_name="business_metrics"
    )
    metric = models.CharField(max_length=64, help_text="e.g. orders, requests, active_users")
    day = models.DateField()
    value = models.DecimalField(max_digits=24, decimal_places=6)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BusinessMetricQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "metric", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "metric", "day"], name="businessmetric_one_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="businessmetric_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.metric} {self.day}: {self.value}"


class ImportedRecommendationQuerySet(ScopedQuerySet["ImportedRecommendation"]):
    def for_team_lead(self, user: object) -> ImportedRecommendationQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class ImportedRecommendation(models.Model):
    """A recommendation read from an outside tool's export (AWS Cost Optimization Hub),
    given to the team that owns its resource or account. Importing the same
    recommendation id again replaces it."""

    team = models.ForeignKey(
        "billing.Team", on_delete=models.CASCADE, related_name="imported_recommendations"
    )
    source = models.CharField(max_length=64, default="cost_optimization_hub")
    recommendation_id = models.CharField(max_length=512)
    category = models.CharField(max_length=16, help_text="compute, storage, database, network, ai")
    owner_account = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=2048, blank=True)
    action = models.CharField(
        max_length=128, blank=True, help_text="e.g. Rightsize, MigrateToGraviton"
    )
    current = models.CharField(max_length=512, blank=True)
    suggested = models.CharField(max_length=512, blank=True)
    monthly_saving = models.DecimalField(max_digits=20, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")
    reasoning = models.TextField(blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    objects = ImportedRecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["-monthly_saving", "recommendation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "recommendation_id"], name="importedrec_one_per_source_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.current} -> {self.suggested} ({self.monthly_saving})"
