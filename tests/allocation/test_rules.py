"""Rules and split rules of one version: each refusal names the rule and the field."""

from __future__ import annotations

from typing import Any

import pytest

from allocation.rules import MAX_SPLITS, clean_rule, clean_splits
from portal.core.errors import ApplicationError

EC2 = {"field": "service", "op": "equals", "values": ["AmazonEC2"]}


def rule_refusal(index: int, data: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        clean_rule(index, data, resolve_key=str)
    return caught.value


def split_refusal(splits: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        clean_splits(splits)
    return caught.value


def test_a_regular_rule_is_stored_with_its_position_and_cleaned_expression() -> None:
    rule = clean_rule(0, {"value": " Platform ", "expression": EC2}, resolve_key=str)

    assert rule == {
        "position": 1,
        "kind": "regular",
        "value": "Platform",
        "expression": {**EC2, "case_sensitive": True},
        "inherit_from": "",
    }


def test_a_bad_expression_names_the_rule_and_the_path() -> None:
    bad = {"all": [EC2, {"field": "servce", "op": "equals", "values": ["x"]}]}

    error = rule_refusal(2, {"value": "Platform", "expression": bad})

    assert error.message == 'rule 3 ("Platform"): all[1].field: unknown field "servce"'
    assert error.code == "invalid_rule"
    assert error.field == "rules[2].expression.all[1].field"


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (
            {"value": "Web", "expression": EC2, "colour": "red"},
            'rule 1 ("Web"): colour: unknown field',
            "rules[0].colour",
        ),
        (
            {"value": "Web", "kind": "magic", "expression": EC2},
            "rule 1 (\"Web\"): kind: unknown kind 'magic'",
            "rules[0].kind",
        ),
        ({"expression": EC2}, "rule 1: value: a non-empty text is required", "rules[0].value"),
        (
            {"value": "Web"},
            'rule 1 ("Web"): expression: expected a condition',
            "rules[0].expression",
        ),
        (
            {"value": "Web", "expression": EC2, "inherit_from": "account_name"},
            'rule 1 ("Web"): inherit_from: only inherited',
            "rules[0].inherit_from",
        ),
        (
            {"kind": "inherited", "inherit_from": "owner"},
            'rule 1 (inherited from owner): inherit_from: expected "tag:<key>"',
            "rules[0].inherit_from",
        ),
        (
            {"kind": "inherited", "inherit_from": "tag:"},
            "rule 1 (inherited from tag:): inherit_from",
            "rules[0].inherit_from",
        ),
        (
            {"kind": "inherited", "inherit_from": "account_name", "value": "x"},
            "rule 1 (inherited from account_name): value:",
            "rules[0].value",
        ),
    ],
)
def test_bad_rules_are_refused_by_name_and_field(data: Any, message: str, field: str) -> None:
    error = rule_refusal(0, data)

    assert error.message.startswith(message)
    assert error.field == field


def test_inherited_rules_take_a_tag_key_through_its_alias_or_the_account_name() -> None:
    aliases = {"Team": "team"}
    by_tag = clean_rule(
        0,
        {"kind": "inherited", "inherit_from": "tag:Team"},
        resolve_key=lambda k: aliases.get(k, k),
    )
    by_name = clean_rule(1, {"kind": "inherited", "inherit_from": "account_name"}, resolve_key=str)

    assert by_tag["inherit_from"] == "tag:team" and by_tag["expression"] is None
    assert by_name == {
        "position": 2,
        "kind": "inherited",
        "value": "",
        "expression": None,
        "inherit_from": "account_name",
    }


def fixed(*percents: Any, source: str = "Shared") -> dict[str, Any]:
    targets = [{"value": f"T{i}", "percent": p} for i, p in enumerate(percents)]
    return {"source": source, "method": "fixed", "targets": targets}


def test_fixed_percentages_summing_to_100_are_kept_exactly() -> None:
    [split] = clean_splits([fixed("33.3", "33.3", 33.4)])

    assert split["targets"] == [
        {"value": "T0", "percent": "33.3"},
        {"value": "T1", "percent": "33.3"},
        {"value": "T2", "percent": "33.4"},
    ]


@pytest.mark.parametrize("percents", [("50", "49.99"), ("60", "60"), ("33.33", "33.33", "33.33")])
def test_fixed_percentages_must_sum_to_exactly_100(percents: tuple[str, ...]) -> None:
    error = split_refusal([fixed(*percents)])

    assert error.code == "split_percentages"
    assert error.message.startswith('split 1 ("Shared"): targets: percentages sum to ')
    assert error.field == "splits[0].targets"


@pytest.mark.parametrize(
    ("split", "message", "field"),
    [
        (
            {"source": "Shared", "method": "even", "targets": []},
            'split 1 ("Shared"): targets: at least one target',
            "splits[0].targets",
        ),
        (
            {"source": "Shared", "method": "even"},
            'split 1 ("Shared"): targets: at least one target',
            "splits[0].targets",
        ),
        (
            {"source": "Shared", "method": "random", "targets": [{"value": "A"}]},
            "split 1 (\"Shared\"): method: unknown method 'random'",
            "splits[0].method",
        ),
        (
            {"method": "even", "targets": [{"value": "A"}]},
            "split 1: source: a non-empty text",
            "splits[0].source",
        ),
        (
            {"source": "Shared", "method": "even", "targets": [{"value": "A", "percent": 50}]},
            'split 1 ("Shared"): targets[0].percent: only fixed',
            "splits[0].targets[0].percent",
        ),
        (
            fixed("100", "0"),
            'split 1 ("Shared"): targets[1].percent: expected a percentage above 0',
            "splits[0].targets[1].percent",
        ),
        (fixed("abc"), 'split 1 ("Shared"): targets[0].percent', "splits[0].targets[0].percent"),
        (
            {"source": "S", "method": "even", "targets": [{"value": "A"}, {"value": "A"}]},
            'split 1 ("S"): targets: a target value is named twice',
            "splits[0].targets",
        ),
        (
            {"source": "S", "method": "even", "targets": [{"value": "A"}], "extra": 1},
            'split 1 ("S"): extra: unknown field',
            "splits[0].extra",
        ),
    ],
)
def test_bad_splits_are_refused_by_name_and_field(split: Any, message: str, field: str) -> None:
    error = split_refusal([split])

    assert error.message.startswith(message)
    assert error.field == field


def test_a_value_cannot_be_its_own_target() -> None:
    error = split_refusal([{"source": "S", "method": "even", "targets": [{"value": "S"}]}])

    assert error.code == "split_clash"
    assert error.message == 'split 1 ("S"): targets: "S" is both source and target'


def test_a_value_cannot_be_a_source_and_a_target_of_another_split() -> None:
    splits = [
        {"source": "Shared", "method": "even", "targets": [{"value": "Web"}, {"value": "Data"}]},
        {"source": "Data", "method": "proportional", "targets": [{"value": "ML"}]},
    ]

    error = split_refusal(splits)

    assert error.code == "split_clash"
    assert error.field == "splits[0].targets"
    assert error.message.startswith('split 1 ("Shared"): targets: "Data" is the source of split 2')


def test_at_most_ten_split_rules() -> None:
    splits = [{"source": f"S{i}", "method": "even", "targets": [{"value": "T"}]} for i in range(11)]
    assert len(clean_splits(splits[:MAX_SPLITS])) == MAX_SPLITS

    assert split_refusal(splits).code == "too_many_splits"


def test_a_source_has_one_split_rule() -> None:
    splits = [
        {"source": "Shared", "method": "even", "targets": [{"value": "Web"}]},
        {"source": "Shared", "method": "even", "targets": [{"value": "Data"}]},
    ]

    error = split_refusal(splits)

    assert (error.code, error.field) == ("split_clash", "splits[1].source")
    assert error.message == 'split 2 ("Shared"): source: split 1 shares this source already.'
