"""Cost categories and their rules, kept as versions that take effect from a month.

A category's rules are never edited in place: a change is a new `RuleSet` (version) with
an effective month, and `CostCategory.version_for(period)` picks the version in force for
a billing period. Older versions stay, so periods allocated with them can be explained.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Value
from django.utils import timezone

from portal.core.access import ScopedQuerySet
from portal.core.fields import ExactNumericField
from portal.users.roles import Role

UNALLOCATED = "Unallocated"
VALUE_MAX_LENGTH = 200
ALLOCATION_READERS = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


class CostCategoryQuerySet(ScopedQuerySet["CostCategory"]):
    readable_by = ALLOCATION_READERS


class CostCategory(models.Model):
    """A dimension costs are sorted into, e.g. "Team": each cost gets one of its values."""

    name = models.CharField(max_length=100, unique=True)
    default_value = models.CharField(
        max_length=VALUE_MAX_LENGTH,
        blank=True,
        help_text=f'The value of costs no rule matches; blank means "{UNALLOCATED}".',
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CostCategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "cost categories"

    def __str__(self) -> str:
        return self.name

    @property
    def fallback_value(self) -> str:
        return self.default_value or UNALLOCATED

    def version_for(self, period: date) -> RuleSet | None:
        """The version in force for the month of `period`; None before the first one."""
        return (
            self.versions.filter(effective_month__lte=period.replace(day=1))
            .order_by("-effective_month", "-number")
            .first()
        )


class RuleSetQuerySet(ScopedQuerySet["RuleSet"]):
    readable_by = ALLOCATION_READERS


class RuleSet(models.Model):
    """One version of a category's rules and split rules; never changed once created.

    Of two versions with the same effective month, the later (higher `number`) wins.
    """

    category = models.ForeignKey(CostCategory, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, ... within the category.")
    effective_month = models.DateField(help_text="The first day of the first month it applies.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RuleSetQuerySet.as_manager()

    class Meta:
        ordering = ["category__name", "-effective_month", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["category", "number"], name="ruleset_unique_number"),
            models.CheckConstraint(
                condition=models.Q(effective_month__day=1), name="ruleset_effective_first_of_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category.name} v{self.number} from {self.effective_month:%Y-%m}"


class RuleKind(models.TextChoices):
    REGULAR = "regular", "Regular"
    INHERITED = "inherited", "Inherited value"


class Rule(models.Model):
    """A rule of a version; the first matching rule (lowest position) gives the value.

    A regular rule gives `value` to costs its `expression` matches (see
    `allocation.expressions`); an inherited-value rule takes the value from
    `inherit_from`: "tag:<key>" or "account_name".
    """

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    value = models.CharField(max_length=VALUE_MAX_LENGTH, blank=True)
    expression = models.JSONField(null=True, blank=True)
    inherit_from = models.CharField(max_length=140, blank=True)

    class Meta:
        ordering = ["ruleset", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ruleset", "position"], name="rule_unique_position"),
        ]

    def __str__(self) -> str:
        if self.kind == RuleKind.INHERITED:
            return f"rule {self.position} (inherited from {self.inherit_from})"
        return f"rule {self.position} ({self.value!r})"


class SplitMethod(models.TextChoices):
    PROPORTIONAL = "proportional", "Proportional to the targets' own cost"
    EVEN = "even", "Evenly"
    FIXED = "fixed", "Fixed percentages"


class SplitRule(models.Model):
    """Shares the cost of one source value among target values.

    `targets` is a list of {"value": ..., "percent": "40.5"}; percents (as exact decimal
    text) only for the fixed method, where they sum to 100.
    """

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="splits")
    position = models.PositiveIntegerField()
    source = models.CharField(max_length=VALUE_MAX_LENGTH)
    method = models.CharField(max_length=16, choices=SplitMethod.choices)
    targets = models.JSONField()

    class Meta:
        ordering = ["ruleset", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ruleset", "position"], name="split_unique_position"),
            models.UniqueConstraint(fields=["ruleset", "source"], name="split_unique_source"),
        ]

    def __str__(self) -> str:
        return f"split {self.position} ({self.source!r})"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # Superseded by a later run of its category and period: its results are gone, the
    # record stays, so invoices drafted from it still say which run and version they used.
    REPLACED = "replaced", "Replaced"


class RunStep(models.IntegerChoices):
    """What a running allocation is doing, in the order it does it."""

    WAITING = 0, "Waiting for the category's previous run"
    MATCHING = 1, "Matching rules to the period's costs"
    SPLITTING = 2, "Applying split rules"
    REPLACING = 3, "Replacing the previous results"


class AllocationRun(models.Model):
    """One allocation of a billing period's costs to a category's values.

    A new run of the same category and period replaces the previous one: the old run's
    results are removed and it is kept as replaced. A run is recorded as it is asked for
    (queued); while it runs, `step` says what it does.
    """

    category = models.ForeignKey(CostCategory, on_delete=models.CASCADE, related_name="runs")
    period = models.DateField(help_text="The first day of the billing period's month.")
    ruleset = models.ForeignKey(
        RuleSet, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    step = models.PositiveSmallIntegerField(choices=RunStep.choices, default=RunStep.WAITING)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-period", "category__name", "-requested_at"]

    def __str__(self) -> str:
        return f"{self.category.name} {self.period:%Y-%m} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.REPLACED)

    @property
    def steps_total(self) -> int:
        return len(RunStep)


class AllocationResult(models.Model):
    """Costs of one value, day, account, service, usage type, operation, commitment and
    set of tag keys, and the rule (or split) that gave it.

    A row moved by a split rule names it and the value it came from (`split_from`).
    """

    # Written only by the run, a month's tens of thousands of rows at once: no database
    # constraints or indexes on these links (Django still cascades and nulls them), as
    # checking them row by row took longer than the allocation; (run, value) is indexed.
    run = models.ForeignKey(
        AllocationRun,
        on_delete=models.CASCADE,
        related_name="results",
        db_constraint=False,
        db_index=False,
    )
    value = models.TextField()
    day = models.DateField()
    payer = models.TextField(
        blank=True, db_default="", help_text="The payer whose bill the cost came from."
    )
    sub_account_id = models.TextField(blank=True)
    service_name = models.TextField(blank=True)
    usage_type = models.TextField(blank=True, db_default="")
    pricing_unit = models.TextField(blank=True, db_default="")
    operation = models.TextField(blank=True, db_default="")
    commitment = models.TextField(
        blank=True, db_default="", help_text="The commitment type that covered it, if any."
    )
    tag_keys = ArrayField(
        models.TextField(),
        db_default=Value([], output_field=ArrayField(models.TextField())),
        help_text="The keys of its tags that have a value, sorted.",
    )
    pricing_quantity = ExactNumericField(
        null=True, blank=True, help_text="Usage in pricing units; none on a split's parts."
    )
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()
    rule = models.ForeignKey(
        Rule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    split_rule = models.ForeignKey(
        SplitRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    split_from = models.TextField(blank=True)
    row_count = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["run", "value", "day"]
        indexes = [models.Index(fields=["run", "value"], name="allocresult_run_value")]

    def __str__(self) -> str:
        return f"{self.value} {self.day} {self.billed_cost}"


class AllocationSummary(models.Model):
    """A run's results per value and day (and service, in the `by_service` rows).

    Written by the run with its results, so the cost explorer reads a team's or a
    category value's cost from a few hundred rows a month instead of the results.
    """

    run = models.ForeignKey(
        AllocationRun,
        on_delete=models.CASCADE,
        related_name="summaries",
        db_constraint=False,
        db_index=False,
    )
    by_service = models.BooleanField()
    value = models.TextField()
    day = models.DateField()
    service_name = models.TextField(blank=True)
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()

    class Meta:
        indexes = [models.Index(fields=["run", "by_service"], name="allocsummary_run_grain")]

    def __str__(self) -> str:
        return f"{self.value} {self.day} {self.billed_cost}"
