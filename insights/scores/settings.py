"""The tenant's score settings: weights, targets and required tag keys.

One row per tenant holds only what departs from the defaults (`DEFAULT_WEIGHTS`,
`DEFAULT_TARGETS`, no required tag keys), so a value set back to its default follows the
default again. A change recomputes every stored week in the background, newest first;
computing a week replaces what was stored for it, so the task is safe to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q

from insights.models import ScoreSettings, TeamScore
from insights.scores.compute import DEFAULT_TARGETS, DEFAULT_WEIGHTS
from insights.scores.pages import LABELS
from insights.scores.signals import COMPONENTS
from insights.services import team_scores_compute
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError
from portal.core.fields import checked_decimal
from portal.users.roles import Role

logger = logging.getLogger(__name__)

# Who reads the settings (a team lead, to understand their teams' scores); admins change them.
SCORE_SETTINGS_READERS = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN, Role.TEAM_LEAD})
HUNDRED = Decimal(100)
MAX_TAG_KEYS = 20
MAX_TAG_KEY_LENGTH = 128
# What each component's percent measures: of which cost (the eligible base), which part
# (the efficient one); see "Efficiency signals" in BILLING-DATA.md.
DESCRIPTIONS = {
    "commitment_coverage": "Of on-demand usage of EC2, Fargate, Lambda, RDS, ElastiCache, "
    "OpenSearch, Redshift, SageMaker and provisioned DynamoDB: the share covered by a Savings "
    "Plan or a reservation.",
    "graviton": "Of EC2 Linux instances with a Graviton equivalent, RDS, ElastiCache, "
    "OpenSearch and Lambda: the share running on Graviton (ARM).",
    "current_generation": "Of EC2 instance usage (not Spot, not reserved): the share on "
    "current-generation families rather than m4, c4, r4, t2, m3 and the like.",
    "spot": "Of EC2 on-demand instance usage: the share running on Spot.",
    "ebs_volume_type": "Of EBS storage: the share on gp3 or io2 rather than gp2 or io1.",
    "s3_storage_class": "Of S3 storage: the share in Intelligent-Tiering, Infrequent Access or "
    "Glacier classes rather than S3 Standard.",
    "tag_compliance": "Of all cost: the share whose line items carry every required tag key.",
    "budget_adherence": (
        "Of the team's cost in the week: the share within its team budget's weekly part. "
        "Not applicable to a team without a budget."
    ),
}


class ScoreSettingsInvalid(ApplicationError):
    """Every refused value at once; the first one is the error's own message and field."""

    def __init__(self, errors: list[ApplicationError]) -> None:
        first = errors[0]
        super().__init__(first.message, code=first.code, field=first.field)
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(super().as_dict())
        body["errors"] = {}
        for error in self.errors:
            body["errors"].setdefault(error.field or "non_field_errors", []).append(error.message)
        return body


@dataclass(frozen=True)
class ComponentSetting:
    key: str
    weight: Decimal
    target: Decimal
    weight_is_default: bool
    target_is_default: bool

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key.replace("_", " ").capitalize())

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.key, "")

    @property
    def default_weight(self) -> Decimal:
        return DEFAULT_WEIGHTS[self.key]

    @property
    def default_target(self) -> Decimal:
        return DEFAULT_TARGETS[self.key]


@dataclass(frozen=True)
class RecomputeState:
    """How far the background recomputation after the last change has come."""

    weeks: int  # stored weeks of teams that have a cost
    pending: int  # of those, weeks computed before the settings last changed

    @property
    def running(self) -> bool:
        return self.pending > 0

    @property
    def weeks_done(self) -> int:
        return self.weeks - self.pending


@dataclass(frozen=True)
class EffectiveSettings:
    components: list[ComponentSetting]
    required_tag_keys: list[str]
    updated_at: datetime | None  # None: never changed, all defaults

    @property
    def all_defaults(self) -> bool:
        return not self.required_tag_keys and all(
            c.weight_is_default and c.target_is_default for c in self.components
        )


def score_settings_get() -> EffectiveSettings:
    """The weights and targets in force (defaults where none is set), and which are defaults."""
    saved = _saved()
    weights = _known(saved.weights if saved else {})
    targets = _known(saved.targets if saved else {})
    return EffectiveSettings(
        components=[
            ComponentSetting(
                key=key,
                weight=weights.get(key, DEFAULT_WEIGHTS[key]),
                target=targets.get(key, DEFAULT_TARGETS[key]),
                weight_is_default=key not in weights,
                target_is_default=key not in targets,
            )
            for key in COMPONENTS
        ],
        required_tag_keys=list(saved.required_tag_keys) if saved else [],
        updated_at=saved.updated_at if saved else None,
    )


def score_recompute_state() -> RecomputeState:
    """One query: stored weeks, and those not computed since the settings last changed.

    Teams without a cost binding are left out: no recomputation reaches their weeks.
    """
    saved = _saved()
    stored = TeamScore.objects.filter(team__cost_binding__isnull=False)
    stale = Q(computed_at__lt=saved.updated_at) if saved else Q(pk__in=[])
    found = stored.aggregate(
        weeks=Count("week", distinct=True), pending=Count("week", distinct=True, filter=stale)
    )
    return RecomputeState(weeks=found["weeks"], pending=found["pending"])


@transaction.atomic
def score_settings_update(
    *,
    actor: Any,
    weights: Mapping[str, Any] | None = None,
    targets: Mapping[str, Any] | None = None,
    required_tag_keys: Sequence[Any] | None = None,
) -> EffectiveSettings:
    """Change the weights, targets (component key to value; None: back to the default) or
    the required tag keys; what is not given stays. Every refused value is reported.

    A change is audited and queues the recomputation of every stored week after commit.
    """
    _lock()
    saved = _saved() or ScoreSettings()
    errors: list[ApplicationError] = []
    new_weights = _merged("weights", saved.weights, weights, DEFAULT_WEIGHTS, errors)
    new_targets = _merged("targets", saved.targets, targets, DEFAULT_TARGETS, errors)
    new_keys = (
        list(saved.required_tag_keys)
        if required_tag_keys is None
        else _clean_tag_keys(required_tag_keys, errors)
    )
    if not errors and not any({**DEFAULT_WEIGHTS, **_known(new_weights)}.values()):
        errors.append(
            ApplicationError(
                "At least one component needs a weight above 0, or no team gets a score.",
                code="no_weight",
                field="weights",
            )
        )
    if errors:
        raise ScoreSettingsInvalid(errors)
    before = _values(saved)
    saved.weights, saved.targets, saved.required_tag_keys = new_weights, new_targets, new_keys
    after = _values(saved)
    if after == before:
        return score_settings_get()
    saved.full_clean()
    saved.save()
    audit_record(
        actor=actor, action="scoresettings.update", instance=saved, before=before, after=after
    )
    schema_name = connection.schema_name  # type: ignore[attr-defined]
    transaction.on_commit(lambda: _queue_recompute(schema_name))
    return score_settings_get()


def score_settings_reset(*, actor: Any) -> EffectiveSettings:
    """Every weight and target back to its default, and no required tag keys."""
    defaults: dict[str, Any] = dict.fromkeys(COMPONENTS)
    return score_settings_update(
        actor=actor, weights=defaults, targets=defaults, required_tag_keys=[]
    )


def score_weeks_recompute() -> list[date]:
    """Compute every stored week again with the settings in force, newest first."""
    weeks = list(TeamScore.objects.order_by("-week").values_list("week", flat=True).distinct())
    schema_name = connection.schema_name  # type: ignore[attr-defined]
    for done, week in enumerate(weeks, start=1):
        with transaction.atomic():
            # Two recomputations at once (two quick changes) take each week in turn, so the
            # later one, which reads the later settings, writes last.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    [f"{schema_name}.insights.score_week.{week.isoformat()}"],
                )
            team_scores_compute(actor=None, week=week)
        logger.info("%s: scores of %s recomputed (%d of %d)", schema_name, week, done, len(weeks))
    return weeks


def _queue_recompute(schema_name: str) -> None:
    from insights.tasks import recompute_scores  # the tasks module imports this one

    recompute_scores.delay(schema_name)


def _lock() -> None:
    """One settings row per tenant: two first saves at once must not make two rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"{connection.schema_name}.insights.score_settings"],  # type: ignore[attr-defined]
        )


def _saved() -> ScoreSettings | None:
    return ScoreSettings.objects.order_by("pk").first()


def _known(values: Mapping[str, Any]) -> dict[str, Decimal]:
    return {k: Decimal(str(v)) for k, v in values.items() if k in COMPONENTS and v is not None}


def _values(saved: ScoreSettings) -> dict[str, Any]:
    return {
        "weights": dict(saved.weights),
        "targets": dict(saved.targets),
        "required_tag_keys": list(saved.required_tag_keys),
    }


def _merged(
    kind: str,
    stored: Mapping[str, Any],
    given: Mapping[str, Any] | None,
    defaults: Mapping[str, Decimal],
    errors: list[ApplicationError],
) -> dict[str, str]:
    """The stored values changed by `given`, as decimal text, without those at their default."""
    values = {k: str(v) for k, v in _known(stored).items()}
    if given is None:
        return values
    if not isinstance(given, Mapping):
        errors.append(
            ApplicationError(f"{kind} maps component keys to numbers.", code="invalid", field=kind)
        )
        return values
    for key, raw in given.items():
        field = f"{kind}.{key}"
        if key not in COMPONENTS:
            errors.append(
                ApplicationError(
                    f"{key!r} is not a score component; the components are "
                    f"{', '.join(COMPONENTS)}.",
                    code="unknown_component",
                    field=field,
                )
            )
            continue
        value = None if raw is None or raw == "" else _number(kind, key, raw, errors)
        if value is None or value == defaults[key]:
            values.pop(key, None)
        else:
            values[key] = format(value.normalize(), "f")
    return values


def _number(kind: str, key: str, raw: Any, errors: list[ApplicationError]) -> Decimal | None:
    """A weight from 0 to 100 or a target above 0 up to 100, with at most two decimals."""
    what = "weight" if kind == "weights" else "target"
    rule = "from 0 to 100" if kind == "weights" else "above 0 and at most 100 (percent)"
    label = LABELS.get(key, key)
    try:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
            raise ValueError(f"{raw!r} is not a number.")
        value = checked_decimal(raw, max_digits=5, decimal_places=2)
    except ValueError as exc:
        problem = str(exc)
    else:
        above_low = value >= 0 if kind == "weights" else value > 0
        if above_low and value <= HUNDRED:
            return value
        problem = f"{value} is out of range."
    errors.append(
        ApplicationError(
            f"The {what} of {label} must be a number {rule}: {problem}",
            code="invalid",
            field=f"{kind}.{key}",
        )
    )
    return None


def _clean_tag_keys(given: Sequence[Any], errors: list[ApplicationError]) -> list[str]:
    """Stripped keys, in the order given; duplicates (whatever the case) refused."""
    field = "required_tag_keys"
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        errors.append(ApplicationError("Give the tag keys as a list.", code="invalid", field=field))
        return []
    if len(given) > MAX_TAG_KEYS:
        errors.append(
            ApplicationError(
                f"At most {MAX_TAG_KEYS} tag keys can be required; {len(given)} were given.",
                code="too_many",
                field=field,
            )
        )
        return []
    keys: list[str] = []
    seen: dict[str, str] = {}
    for raw in given:
        key = raw.strip() if isinstance(raw, str) else ""
        problem = ""
        if not isinstance(raw, str):
            problem = f"A tag key is text; {raw!r} is not."
        elif not key:
            problem = "A tag key cannot be empty."
        elif len(key) > MAX_TAG_KEY_LENGTH:
            problem = f"The tag key {key[:20]!r}... is longer than {MAX_TAG_KEY_LENGTH} characters."
        elif key.casefold() in seen:
            problem = f"The tag key {key!r} is given twice (as {seen[key.casefold()]!r})."
        if problem:
            errors.append(ApplicationError(problem, code="invalid", field=field))
            continue
        seen[key.casefold()] = key
        keys.append(key)
    return keys
