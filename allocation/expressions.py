"""The match expression of a regular rule: checked and normalized without a database.

An expression is a condition or a combination of them, nested:

    {"all": [node, ...]}   every node matches
    {"any": [node, ...]}   at least one node matches
    {"not": node}          the node does not match
    {"field": "service", "op": "one_of", "values": ["AmazonEC2"], "case_sensitive": true}

Conditions on `tag` name a `key`; on `category` name another cost `category`. The ops
`present` and `absent` take no values, `equals` takes one, the others one or more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

FIELDS = (
    "payer",
    "account",
    "ou",
    "tag",
    "service",
    "region",
    "charge_category",
    "usage_type",
    "category",
)
VALUE_OPS = ("equals", "one_of", "starts_with", "ends_with", "contains")
PRESENCE_OPS = ("present", "absent")
OPS = VALUE_OPS + PRESENCE_OPS
COMBINATORS = ("all", "any", "not")
CONDITION_KEYS = frozenset({"field", "op", "values", "key", "category", "case_sensitive"})
MAX_DEPTH = 5


class ExpressionError(Exception):
    """A bad part of an expression: `path` locates it (e.g. "all[1].field")."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _join(path: str, part: str) -> str:
    if part.startswith("["):
        return f"{path}{part}"
    return f"{path}.{part}" if path else part


def _where(path: str) -> str:
    return path or "expression"


def clean_expression(
    node: Any, *, resolve_key: Callable[[str], str] = str, path: str = "", depth: int = 1
) -> dict[str, Any]:
    """A normalized copy of `node`, or ExpressionError naming the first bad part.

    `resolve_key` maps a tag key (or one of its aliases) to the key it is read as.
    """
    if not isinstance(node, dict) or not node:
        raise ExpressionError(_where(path), "expected a condition or all/any/not")
    if depth > MAX_DEPTH:
        raise ExpressionError(_where(path), f"nested deeper than {MAX_DEPTH} levels")
    combinators = [key for key in COMBINATORS if key in node]
    if not combinators:
        return _clean_condition(node, resolve_key=resolve_key, path=path)
    if len(node) != 1:
        extra = sorted(key for key in node if key != combinators[0])[0]
        raise ExpressionError(_join(path, extra), f"not allowed beside {combinators[0]!r}")
    name = combinators[0]
    inner = node[name]
    inner_path = _join(path, name)
    if name == "not":
        return {
            "not": clean_expression(
                inner, resolve_key=resolve_key, path=inner_path, depth=depth + 1
            )
        }
    if not isinstance(inner, list) or not inner:
        raise ExpressionError(inner_path, "expected a non-empty list")
    return {
        name: [
            clean_expression(
                child, resolve_key=resolve_key, path=f"{inner_path}[{i}]", depth=depth + 1
            )
            for i, child in enumerate(inner)
        ]
    }


def _clean_condition(
    node: dict[str, Any], *, resolve_key: Callable[[str], str], path: str
) -> dict[str, Any]:
    unknown = sorted(set(node) - CONDITION_KEYS)
    if unknown:
        raise ExpressionError(_join(path, unknown[0]), f"unknown part {unknown[0]!r}")
    field, op = node.get("field"), node.get("op")
    if field not in FIELDS:
        problem = "missing" if field is None else f"unknown field {_quoted(field)}"
        raise ExpressionError(_join(path, "field"), problem)
    if op not in OPS:
        problem = "missing" if op is None else f"unknown operator {_quoted(op)}"
        raise ExpressionError(_join(path, "op"), problem)
    cleaned: dict[str, Any] = {"field": field, "op": op}
    cleaned.update(_subject(node, field, resolve_key=resolve_key, path=path))
    if op in VALUE_OPS:
        cleaned["values"] = _values(node.get("values"), op, _join(path, "values"))
    elif "values" in node:
        raise ExpressionError(_join(path, "values"), f"{op!r} takes no values")
    case_sensitive = node.get("case_sensitive", True)
    if not isinstance(case_sensitive, bool):
        raise ExpressionError(_join(path, "case_sensitive"), "expected true or false")
    cleaned["case_sensitive"] = case_sensitive
    return cleaned


def _subject(
    node: dict[str, Any], field: str, *, resolve_key: Callable[[str], str], path: str
) -> dict[str, str]:
    """The tag key of a tag condition, the category of a category condition."""
    cleaned: dict[str, str] = {}
    if field == "tag":
        cleaned["key"] = resolve_key(_name(node, "key", path, "a tag condition needs a key"))
    elif "key" in node:
        raise ExpressionError(_join(path, "key"), "only tag conditions take a key")
    if field == "category":
        cleaned["category"] = _name(node, "category", path, "names no cost category")
    elif "category" in node:
        raise ExpressionError(_join(path, "category"), "only category conditions name a category")
    return cleaned


def _quoted(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _name(node: dict[str, Any], part: str, path: str, missing: str) -> str:
    value = node.get(part)
    if not isinstance(value, str) or not value.strip():
        raise ExpressionError(_join(path, part), missing)
    return value.strip()


def _values(values: Any, op: str, path: str) -> list[str]:
    if values is None:
        raise ExpressionError(path, f"{op!r} needs values")
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ExpressionError(path, "expected a list of non-empty texts")
    if not values:
        raise ExpressionError(path, f"{op!r} needs at least one value")
    if op == "equals" and len(values) != 1:
        raise ExpressionError(path, "'equals' takes exactly one value; use 'one_of' for more")
    return list(values)


def conditions(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every condition of a cleaned expression."""
    if "field" in node:
        yield node
    elif "not" in node:
        yield from conditions(node["not"])
    else:
        for child in node.get("all") or node.get("any") or []:
            yield from conditions(child)


def referenced_categories(node: dict[str, Any]) -> set[str]:
    """The names of the cost categories a cleaned expression looks at."""
    return {c["category"] for c in conditions(node) if c["field"] == "category"}
