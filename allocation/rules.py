"""Checking the rules and split rules of one version, without a database.

Each check raises the one application error; its message names the rule or split (its
position, 1-based, and value) and the part that is wrong, its `field` the JSON path of
that part in the request (`rules[2].expression.all[1].field`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from allocation.expressions import ExpressionError, clean_expression
from allocation.models import VALUE_MAX_LENGTH, RuleKind, SplitMethod
from portal.core.errors import ApplicationError

MAX_SPLITS = 10
MAX_SPLIT_TARGETS = 500
RULE_KEYS = frozenset({"kind", "value", "expression", "inherit_from"})
SPLIT_KEYS = frozenset({"source", "method", "targets"})
TARGET_KEYS = frozenset({"value", "percent"})
ACCOUNT_NAME = "account_name"
TAG_PREFIX = "tag:"


def rule_label(position: int, data: Any) -> str:
    if isinstance(data, dict) and data.get("kind") == RuleKind.INHERITED:
        return f"rule {position} (inherited from {data.get('inherit_from', '?')})"
    value = data.get("value") if isinstance(data, dict) else None
    return f'rule {position} ("{value}")' if value else f"rule {position}"


def _refuse(label: str, field: str, problem: str, *, code: str) -> ApplicationError:
    part = field.split("].", 1)[-1]
    return ApplicationError(f"{label}: {part}: {problem}", code=code, field=field)


def _value(data: dict[str, Any], name: str, label: str, where: str, code: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _refuse(label, f"{where}.{name}", "a non-empty text is required", code=code)
    if len(value.strip()) > VALUE_MAX_LENGTH:
        raise _refuse(
            label, f"{where}.{name}", f"longer than {VALUE_MAX_LENGTH} characters", code=code
        )
    return value.strip()


def clean_rule(index: int, data: Any, *, resolve_key: Callable[[str], str]) -> dict[str, Any]:
    """One rule as stored: position, kind, value, expression, inherit_from."""
    position, where = index + 1, f"rules[{index}]"
    label = rule_label(position, data)
    if not isinstance(data, dict):
        raise ApplicationError(f"{label}: expected an object", code="invalid_rule", field=where)
    unknown = sorted(set(data) - RULE_KEYS)
    if unknown:
        raise _refuse(label, f"{where}.{unknown[0]}", "unknown field", code="invalid_rule")
    kind = data.get("kind", RuleKind.REGULAR)
    if kind not in RuleKind.values:
        raise _refuse(label, f"{where}.kind", f"unknown kind {kind!r}", code="invalid_rule")
    if kind == RuleKind.INHERITED:
        return _clean_inherited(position, data, label, where, resolve_key)
    value = _value(data, "value", label, where, "invalid_rule")
    if "inherit_from" in data:
        raise _refuse(
            label, f"{where}.inherit_from", "only inherited rules take it", code="invalid_rule"
        )
    try:
        expression = clean_expression(data.get("expression"), resolve_key=resolve_key)
    except ExpressionError as exc:
        field = f"{where}.expression" + ("" if exc.path == "expression" else f".{exc.path}")
        raise ApplicationError(f"{label}: {exc}", code="invalid_rule", field=field) from exc
    return {
        "position": position,
        "kind": kind,
        "value": value,
        "expression": expression,
        "inherit_from": "",
    }


def _clean_inherited(
    position: int, data: dict[str, Any], label: str, where: str, resolve_key: Callable[[str], str]
) -> dict[str, Any]:
    for name in ("value", "expression"):
        if data.get(name):
            raise _refuse(
                label,
                f"{where}.{name}",
                "an inherited rule takes its value from tag or account name",
                code="invalid_rule",
            )
    source = data.get("inherit_from")
    key = (
        source[len(TAG_PREFIX) :].strip()
        if isinstance(source, str) and source.startswith(TAG_PREFIX)
        else ""
    )
    if source != ACCOUNT_NAME and not key:
        raise _refuse(
            label,
            f"{where}.inherit_from",
            f'expected "tag:<key>" or "{ACCOUNT_NAME}"',
            code="invalid_rule",
        )
    inherit_from = ACCOUNT_NAME if source == ACCOUNT_NAME else f"{TAG_PREFIX}{resolve_key(key)}"
    return {
        "position": position,
        "kind": RuleKind.INHERITED,
        "value": "",
        "expression": None,
        "inherit_from": inherit_from,
    }


def clean_splits(splits: Any) -> list[dict[str, Any]]:
    """The split rules as stored, checked one by one and against each other."""
    if not isinstance(splits, list):
        raise ApplicationError("Split rules are a list.", code="invalid_split", field="splits")
    if len(splits) > MAX_SPLITS:
        raise ApplicationError(
            f"A version holds at most {MAX_SPLITS} split rules; {len(splits)} were given.",
            code="too_many_splits",
            field="splits",
        )
    cleaned = [clean_split(index, data) for index, data in enumerate(splits)]
    _refuse_clashes(cleaned)
    return cleaned


def clean_split(index: int, data: Any) -> dict[str, Any]:
    position, where = index + 1, f"splits[{index}]"
    source = data.get("source") if isinstance(data, dict) else None
    label = f'split {position} ("{source}")' if source else f"split {position}"
    if not isinstance(data, dict):
        raise ApplicationError(f"{label}: expected an object", code="invalid_split", field=where)
    unknown = sorted(set(data) - SPLIT_KEYS)
    if unknown:
        raise _refuse(label, f"{where}.{unknown[0]}", "unknown field", code="invalid_split")
    source = _value(data, "source", label, where, "invalid_split")
    method = data.get("method")
    if method not in SplitMethod.values:
        raise _refuse(label, f"{where}.method", f"unknown method {method!r}", code="invalid_split")
    targets = data.get("targets")
    if not isinstance(targets, list) or not targets:
        raise _refuse(
            label, f"{where}.targets", "at least one target is required", code="invalid_split"
        )
    if len(targets) > MAX_SPLIT_TARGETS:
        raise _refuse(
            label, f"{where}.targets", f"at most {MAX_SPLIT_TARGETS} targets", code="invalid_split"
        )
    cleaned = [_target(label, f"{where}.targets[{i}]", t, method) for i, t in enumerate(targets)]
    values = [t["value"] for t in cleaned]
    if len(set(values)) != len(values):
        raise _refuse(
            label, f"{where}.targets", "a target value is named twice", code="invalid_split"
        )
    if source in values:
        raise _refuse(
            label, f"{where}.targets", f'"{source}" is both source and target', code="split_clash"
        )
    if method == SplitMethod.FIXED:
        total = sum((Decimal(t["percent"]) for t in cleaned), Decimal(0))
        if total != 100:
            raise _refuse(
                label,
                f"{where}.targets",
                f"percentages sum to {total}, not 100",
                code="split_percentages",
            )
    return {"position": position, "source": source, "method": method, "targets": cleaned}


def _target(label: str, where: str, data: Any, method: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) - TARGET_KEYS:
        raise _refuse(label, where, 'expected {"value": ..., "percent": ...}', code="invalid_split")
    value = _value(data, "value", label, where, "invalid_split")
    if method != SplitMethod.FIXED:
        if data.get("percent") is not None:
            raise _refuse(
                label,
                f"{where}.percent",
                "only fixed splits take percentages",
                code="invalid_split",
            )
        return {"value": value}
    try:
        percent = Decimal(str(data.get("percent")))
    except InvalidOperation:
        percent = Decimal("NaN")
    if isinstance(data.get("percent"), bool) or not percent.is_finite() or percent <= 0:
        raise _refuse(
            label, f"{where}.percent", "expected a percentage above 0", code="invalid_split"
        )
    return {"value": value, "percent": str(percent)}


def _refuse_clashes(splits: list[dict[str, Any]]) -> None:
    """One split rule per source; no value is a source in one and a target in another."""
    sources: dict[str, dict[str, Any]] = {}
    for index, split in enumerate(splits):
        label = f'split {split["position"]} ("{split["source"]}")'
        first = sources.setdefault(split["source"], split)
        if first is not split:
            raise ApplicationError(
                f"{label}: source: split {first['position']} shares this source already.",
                code="split_clash",
                field=f"splits[{index}].source",
            )
    for index, split in enumerate(splits):
        label = f'split {split["position"]} ("{split["source"]}")'
        for target in split["targets"]:
            other = sources.get(target["value"])
            if other is not None:
                raise ApplicationError(
                    f'{label}: targets: "{target["value"]}" is the source of split '
                    f"{other['position']}; a value cannot be both a source and a target.",
                    code="split_clash",
                    field=f"splits[{index}].targets",
                )
