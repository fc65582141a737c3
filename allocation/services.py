"""Every write to cost categories and their rule versions goes through these services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import connection, transaction

from allocation.expressions import referenced_categories
from allocation.models import AllocationRun, CostCategory, Rule, RuleSet, SplitRule
from allocation.rules import clean_rule, clean_splits, rule_label
from allocation.selectors import ruleset_data
from billing.models import TagKey
from billing.selectors import loaded_month
from billing.services._common import model_errors_as_application_errors, refuse_unknown_fields
from portal.audit.services import acting_user, audit_record, audited_create, audited_update
from portal.core.errors import ApplicationError

CATEGORY_FIELDS = frozenset({"name", "default_value"})


def _refuse_taken_name(name: str, *, instance: CostCategory | None = None) -> str:
    name = name.strip()
    taken = CostCategory.objects.filter(name__iexact=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ApplicationError(
            f"A cost category named {name!r} exists.", code="category_taken", field="name"
        )
    return name


@transaction.atomic
def cost_category_create(*, actor: Any, name: str, default_value: str = "") -> CostCategory:
    """A category without rules: every cost gets its default value until a version exists."""
    category = CostCategory(
        name=_refuse_taken_name(name), default_value=(default_value or "").strip()
    )
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=category)


@transaction.atomic
def cost_category_update(*, actor: Any, instance: CostCategory, **data: Any) -> CostCategory:
    """Change the name or the default value; the rules change only by a new version.

    A category whose value other categories' rules look at keeps its name, as those rules
    name it.
    """
    refuse_unknown_fields(data, CATEGORY_FIELDS, "cost category")
    if "name" in data:
        data["name"] = _refuse_taken_name(data["name"], instance=instance)
        users = _categories_referencing(instance.name) - {instance.name}
        if data["name"] != instance.name and users:
            raise ApplicationError(
                f"The rules of {', '.join(sorted(users))} look at {instance.name!r}, so it "
                "cannot be renamed; change those rules first.",
                code="category_referenced",
                field="name",
            )
    if "default_value" in data:
        data["default_value"] = (data["default_value"] or "").strip()
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=instance, data=data)


def _key_resolver() -> Callable[[str], str]:
    """A tag key or one of its aliases -> the key it is read as (other keys unchanged)."""
    names: dict[str, str] = {}
    for key in TagKey.objects.all():
        names.update({alias: key.name for alias in key.aliases})
        names[key.name] = key.name
    return lambda key: names.get(key, key)


def _references(rules: list[dict[str, Any]]) -> set[str]:
    return {
        name
        for rule in rules
        if rule["expression"]
        for name in referenced_categories(rule["expression"])
    }


def _categories_referencing(name: str) -> set[str]:
    """Categories with a version whose rules look at category `name`."""
    rows = Rule.objects.filter(expression__isnull=False).select_related("ruleset__category")
    return {
        rule.ruleset.category.name
        for rule in rows
        if name in referenced_categories(rule.expression or {})
    }


def _graph_from(month: date, *, without: CostCategory) -> dict[str, set[str]]:
    """Which categories each other category looks at, in any version in force from `month`.

    For each category: its version in force at `month` and every later one.
    """
    graph: dict[str, set[str]] = {}
    for category in CostCategory.objects.exclude(pk=without.pk).prefetch_related("versions__rules"):
        versions = sorted(category.versions.all(), key=lambda v: (v.effective_month, v.number))
        current = [v for v in versions if v.effective_month <= month][-1:]
        later = [v for v in versions if v.effective_month > month]
        rules = [{"expression": r.expression} for v in current + later for r in v.rules.all()]
        graph[category.name] = _references(rules)
    return graph


def _refuse_bad_references(
    category: CostCategory, month: date, rules: list[dict[str, Any]]
) -> None:
    """Named categories exist, and no chain of references leads back to `category`."""
    graph = _graph_from(month, without=category)
    for index, rule in enumerate(rules):
        for name in sorted(referenced_categories(rule["expression"] or {"all": []})):
            label = rule_label(rule["position"], rule)
            if name != category.name and name not in graph:
                raise ApplicationError(
                    f"{label}: expression: no cost category is named {name!r}.",
                    code="unknown_category",
                    field=f"rules[{index}].expression",
                )
            cycle = _path_back(name, category.name, graph)
            if cycle is not None:
                chain = " -> ".join([category.name, *cycle])
                raise ApplicationError(
                    f"{label}: expression: the categories refer to each other in a cycle "
                    f"({chain}).",
                    code="category_cycle",
                    field=f"rules[{index}].expression",
                )


def _path_back(start: str, target: str, graph: dict[str, set[str]]) -> list[str] | None:
    """The chain of references from `start` back to `target`, if there is one."""
    stack: list[list[str]] = [[start]]
    seen: set[str] = set()
    while stack:
        path = stack.pop()
        if path[-1] == target:
            return path
        if path[-1] in seen:
            continue
        seen.add(path[-1])
        stack.extend([*path, nxt] for nxt in sorted(graph.get(path[-1], ())))
    return None


@transaction.atomic
def ruleset_create(
    *,
    actor: Any,
    category: CostCategory,
    effective_month: date,
    rules: list[dict[str, Any]],
    splits: list[dict[str, Any]] | None = None,
) -> RuleSet:
    """A new version of `category`'s rules, in force from `effective_month` on.

    Earlier versions stay as they are, for the periods they allocated.
    """
    if effective_month.day != 1:
        raise ApplicationError(
            f"Rules take effect from the first day of a month, not {effective_month}.",
            code="invalid_effective_month",
            field="effective_month",
        )
    if not isinstance(rules, list):
        raise ApplicationError("Rules are a list.", code="invalid_rule", field="rules")
    # Lock every category: two versions written at once could otherwise close a cycle.
    list(CostCategory.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    category = CostCategory.objects.get(pk=category.pk)
    resolve_key = _key_resolver()
    cleaned = [clean_rule(i, data, resolve_key=resolve_key) for i, data in enumerate(rules)]
    cleaned_splits = clean_splits([] if splits is None else splits)
    _refuse_bad_references(category, effective_month, cleaned)
    last = category.versions.order_by("-number").first()
    ruleset = RuleSet(
        category=category,
        number=(last.number + 1) if last else 1,
        effective_month=effective_month,
        created_by=acting_user(actor),
    )
    with model_errors_as_application_errors():
        ruleset.full_clean()
        ruleset.save()
        rows = [Rule(ruleset=ruleset, **data) for data in cleaned]
        split_rows = [SplitRule(ruleset=ruleset, **data) for data in cleaned_splits]
        for row in [*rows, *split_rows]:
            # Positions and sources are unique by construction: no query per row for them.
            row.full_clean(exclude=["ruleset"])
    Rule.objects.bulk_create(rows)
    SplitRule.objects.bulk_create(split_rows)
    audit_record(
        actor=actor, action="ruleset.create", instance=ruleset, after=ruleset_data(ruleset)
    )
    return ruleset


@transaction.atomic
def allocation_run_request(
    *, actor: Any, category: CostCategory, period: date, enqueue: bool = True
) -> AllocationRun:
    """Record a queued allocation of `category` for the month of `period`.

    A worker carries it out once the surrounding transaction commits; with
    `enqueue=False` the caller does (`allocation.engine.run.allocation_run_execute`).
    """
    month = loaded_month(period, first="load its bill files")
    from allocation.tasks import allocation_run  # the task module imports the engine

    run = AllocationRun.objects.create(
        category=category,
        period=month,
        created_by=acting_user(actor),
    )
    audit_record(
        actor=actor,
        action="allocationrun.request",
        instance=run,
        after={"category": category.name, "period": month.isoformat(), "queued": enqueue},
    )
    if enqueue:
        args = (connection.schema_name, run.pk)  # type: ignore[attr-defined]
        transaction.on_commit(lambda: allocation_run.apply_async(args=args))
    return run
