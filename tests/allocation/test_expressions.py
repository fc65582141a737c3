"""Match expressions of regular rules: every field and operator, every refusal, no database."""

from __future__ import annotations

from typing import Any

import pytest

from allocation.expressions import (
    FIELDS,
    MAX_DEPTH,
    OPS,
    PRESENCE_OPS,
    ExpressionError,
    clean_expression,
    referenced_categories,
)


def cond(field: str = "service", op: str = "equals", **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field, "op": op, **extra}
    if op not in PRESENCE_OPS and "values" not in extra:
        node["values"] = ["AmazonEC2"]
    if field == "tag" and "key" not in extra:
        node["key"] = "team"
    if field == "category" and "category" not in extra:
        node["category"] = "Business unit"
    return node


def refusal(node: Any, **kwargs: Any) -> str:
    with pytest.raises(ExpressionError) as caught:
        clean_expression(node, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("op", OPS)
def test_every_field_takes_every_operator(field: str, op: str) -> None:
    cleaned = clean_expression(cond(field, op))

    assert cleaned["field"] == field and cleaned["op"] == op
    assert cleaned["case_sensitive"] is True
    assert ("values" in cleaned) is (op not in PRESENCE_OPS)


def test_one_of_and_the_text_operators_take_several_values() -> None:
    for op in ("one_of", "starts_with", "ends_with", "contains"):
        cleaned = clean_expression(cond(op=op, values=["a", "b"], case_sensitive=False))
        assert cleaned == {
            "field": "service",
            "op": op,
            "values": ["a", "b"],
            "case_sensitive": False,
        }


def test_all_any_not_nest() -> None:
    node = {"all": [cond(), {"any": [cond("region"), {"not": cond("tag", "absent")}]}]}

    cleaned = clean_expression(node)

    assert cleaned["all"][1]["any"][1]["not"] == {
        "field": "tag",
        "op": "absent",
        "key": "team",
        "case_sensitive": True,
    }


def test_tag_keys_resolve_through_aliases() -> None:
    aliases = {"Team": "team", "TEAM": "team"}

    cleaned = clean_expression(
        {"any": [cond("tag", key="Team"), cond("tag", key="env")]},
        resolve_key=lambda key: aliases.get(key, key),
    )

    assert [c["key"] for c in cleaned["any"]] == ["team", "env"]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (
            {"all": [cond(), {"field": "servce", "op": "equals", "values": ["x"]}]},
            'all[1].field: unknown field "servce"',
        ),
        (cond(op="is"), 'op: unknown operator "is"'),
        ({"op": "equals", "values": ["x"]}, "field: missing"),
        ({"field": "region", "values": ["x"]}, "op: missing"),
        ({"field": "region", "op": "equals"}, "values: 'equals' needs values"),
        (cond(op="one_of", values=[]), "values: 'one_of' needs at least one value"),
        (cond(op="contains", values="web"), "values: expected a list of non-empty texts"),
        (cond(op="contains", values=[""]), "values: expected a list of non-empty texts"),
        (cond(values=["a", "b"]), "values: 'equals' takes exactly one value"),
        (cond(op="present", values=["x"]), "values: 'present' takes no values"),
        (cond(op="absent", values=["x"]), "values: 'absent' takes no values"),
        ({"field": "tag", "op": "present"}, "key: a tag condition needs a key"),
        (cond("tag", key="  "), "key: a tag condition needs a key"),
        (cond("region", key="team"), "key: only tag conditions take a key"),
        ({"field": "category", "op": "present"}, "category: names no cost category"),
        (cond(category="Team"), "category: only category conditions name a category"),
        (cond(case_sensitive="no"), "case_sensitive: expected true or false"),
        (cond(value="x"), "value: unknown part 'value'"),
        ({"any": []}, "any: expected a non-empty list"),
        ({"all": cond()}, "all: expected a non-empty list"),
        ({"all": [cond()], "any": [cond()]}, "any: not allowed beside 'all'"),
        ({"not": "x"}, "not: expected a condition or all/any/not"),
        (None, "expression: expected a condition or all/any/not"),
        ({}, "expression: expected a condition or all/any/not"),
    ],
)
def test_a_bad_part_is_refused_with_its_path(node: Any, message: str) -> None:
    assert refusal(node).startswith(message)


def test_nesting_has_a_depth_limit() -> None:
    node: dict[str, Any] = cond()
    for _ in range(MAX_DEPTH - 1):
        node = {"not": node}
    assert clean_expression(node)

    message = refusal({"all": [node]})

    assert message == f"all[0]{'.not' * (MAX_DEPTH - 1)}: nested deeper than {MAX_DEPTH} levels"


def test_referenced_categories_are_found_at_any_depth() -> None:
    node = clean_expression(
        {"any": [cond("category", category="BU"), {"not": cond("category", category="Team")}]}
    )

    assert referenced_categories(node) == {"BU", "Team"}
    assert referenced_categories(clean_expression(cond())) == set()
