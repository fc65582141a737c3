"""Cost categories and their rule versions: written through services, versioned by month."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from allocation.models import CostCategory, Rule, RuleSet, SplitRule
from allocation.selectors import ruleset_data, ruleset_for
from allocation.services import cost_category_create, cost_category_update, ruleset_create
from billing.services.tags import tag_key_create
from portal.audit.models import AuditEntry
from portal.audit.services import snapshot
from portal.users.models import User
from tests.billing.helpers import audit_values, refused

pytestmark = pytest.mark.usefixtures("tenant_a")

JAN, MAR, MAY = date(2026, 1, 1), date(2026, 3, 1), date(2026, 5, 1)


def service_is(name: str) -> dict[str, Any]:
    return {"field": "service", "op": "equals", "values": [name]}


def category_is(category: str, value: str) -> dict[str, Any]:
    return {"field": "category", "category": category, "op": "equals", "values": [value]}


def regular(value: str, expression: dict[str, Any]) -> dict[str, Any]:
    return {"value": value, "expression": expression}


@pytest.fixture
def team(admin_a: User) -> CostCategory:
    return cost_category_create(actor=admin_a, name="Team")


@pytest.fixture
def unit(admin_a: User) -> CostCategory:
    return cost_category_create(actor=admin_a, name="Business unit", default_value="Shared")


def test_a_category_without_default_leaves_the_rest_unallocated(
    team: CostCategory, unit: CostCategory
) -> None:
    assert team.fallback_value == "Unallocated"
    assert unit.fallback_value == "Shared"
    entries = AuditEntry.objects.filter(action="costcategory.create").order_by("pk")
    assert [entry.after["name"] for entry in entries if entry.after] == ["Team", "Business unit"]


def test_names_are_unique_ignoring_case(admin_a: User, team: CostCategory) -> None:
    with refused("category_taken") as caught:
        cost_category_create(actor=admin_a, name=" team ")

    assert caught.value.field == "name"


def test_name_and_default_change_with_an_audit_entry(admin_a: User, team: CostCategory) -> None:
    changed = cost_category_update(
        actor=admin_a, instance=team, name="Squad", default_value=" Other "
    )

    assert (changed.name, changed.default_value) == ("Squad", "Other")
    before, after = audit_values("costcategory.update")
    assert before["name"] == "Team" and after["default_value"] == "Other"


def test_rules_cannot_be_changed_through_the_category(admin_a: User, team: CostCategory) -> None:
    with refused("invalid_field"):
        cost_category_update(actor=admin_a, instance=team, rules=[])


def test_a_version_holds_rules_and_splits_in_order_with_one_audit_entry(
    admin_a: User, team: CostCategory
) -> None:
    ruleset = ruleset_create(
        actor=admin_a,
        category=team,
        effective_month=JAN,
        rules=[
            regular("Platform", service_is("AmazonEKS")),
            {"kind": "inherited", "inherit_from": "tag:team"},
        ],
        splits=[{"source": "Platform", "method": "even", "targets": [{"value": "Web"}]}],
    )

    assert (ruleset.number, ruleset.effective_month, ruleset.created_by) == (1, JAN, admin_a)
    assert [r.kind for r in ruleset.rules.all()] == ["regular", "inherited"]
    entry = AuditEntry.objects.get(action="ruleset.create")
    assert entry.after == ruleset_data(ruleset)
    assert entry.after is not None and entry.after["splits"][0]["source"] == "Platform"
    assert AuditEntry.objects.filter(object_type__startswith="allocation.").count() == 2


def test_tag_keys_in_rules_are_saved_as_the_key_their_alias_names(
    admin_a: User, team: CostCategory
) -> None:
    tag_key_create(actor=admin_a, name="team", aliases=["Team", "TEAM"])
    tag = {"field": "tag", "key": "TEAM", "op": "equals", "values": ["web"]}

    ruleset = ruleset_create(
        actor=admin_a,
        category=team,
        effective_month=JAN,
        rules=[regular("Web", tag), {"kind": "inherited", "inherit_from": "tag:Team"}],
    )

    first, second = ruleset.rules.all()
    assert first.expression is not None and first.expression["key"] == "team"
    assert second.inherit_from == "tag:team"


def test_the_version_in_force_is_the_latest_by_month(admin_a: User, team: CostCategory) -> None:
    march = ruleset_create(actor=admin_a, category=team, effective_month=MAR, rules=[])
    january = ruleset_create(actor=admin_a, category=team, effective_month=JAN, rules=[])
    may = ruleset_create(actor=admin_a, category=team, effective_month=MAY, rules=[])

    assert team.version_for(date(2025, 12, 31)) is None
    assert team.version_for(date(2026, 2, 28)) == january
    assert team.version_for(date(2026, 3, 1)) == march
    assert team.version_for(date(2026, 4, 30)) == march
    assert team.version_for(date(2027, 1, 15)) == may
    assert [v.number for v in (march, january, may)] == [1, 2, 3]


def test_editing_creates_a_new_version_and_leaves_the_old_one(
    admin_a: User, team: CostCategory
) -> None:
    old = ruleset_create(
        actor=admin_a, category=team, effective_month=JAN, rules=[regular("Web", service_is("S3"))]
    )
    old_rules = [snapshot(rule) for rule in old.rules.all()]

    new = ruleset_create(
        actor=admin_a, category=team, effective_month=MAR, rules=[regular("Data", service_is("S3"))]
    )

    assert [snapshot(rule) for rule in Rule.objects.filter(ruleset=old)] == old_rules
    found = ruleset_for(category=team, period=date(2026, 2, 1))
    assert found is not None and found.rules.get().value == "Web"
    assert ruleset_for(category=team, period=MAR) == new
    again = ruleset_create(actor=admin_a, category=team, effective_month=MAR, rules=[])
    assert ruleset_for(category=team, period=MAR) == again


def test_rules_take_effect_from_the_first_of_a_month(admin_a: User, team: CostCategory) -> None:
    with refused("invalid_effective_month") as caught:
        ruleset_create(actor=admin_a, category=team, effective_month=date(2026, 3, 2), rules=[])

    assert caught.value.field == "effective_month"


def test_a_refused_version_writes_nothing(admin_a: User, team: CostCategory) -> None:
    rules = [
        regular("Web", service_is("S3")),
        regular("Data", {"field": "servce", "op": "present"}),
    ]

    with refused("invalid_rule") as caught:
        ruleset_create(actor=admin_a, category=team, effective_month=JAN, rules=rules)

    assert caught.value.message == 'rule 2 ("Data"): field: unknown field "servce"'
    assert caught.value.field == "rules[1].expression.field"
    assert not RuleSet.objects.exists() and not Rule.objects.exists()
    assert not AuditEntry.objects.filter(action="ruleset.create").exists()


def test_split_refusals_reach_the_caller(admin_a: User, team: CostCategory) -> None:
    splits = [{"source": "Shared", "method": "fixed", "targets": [{"value": "A", "percent": "99"}]}]

    with refused("split_percentages"):
        ruleset_create(actor=admin_a, category=team, effective_month=JAN, rules=[], splits=splits)

    assert not SplitRule.objects.exists()


def test_a_rule_may_look_at_another_categorys_value(
    admin_a: User, team: CostCategory, unit: CostCategory
) -> None:
    ruleset_create(
        actor=admin_a,
        category=unit,
        effective_month=JAN,
        rules=[regular("Retail", category_is("Team", "Web"))],
    )

    with refused("category_referenced") as caught:
        cost_category_update(actor=admin_a, instance=team, name="Squad")
    assert "Business unit" in caught.value.message


def test_an_unknown_category_is_refused(admin_a: User, team: CostCategory) -> None:
    with refused("unknown_category") as caught:
        ruleset_create(
            actor=admin_a,
            category=team,
            effective_month=JAN,
            rules=[regular("Web", category_is("Nope", "x"))],
        )

    assert caught.value.message == "rule 1 (\"Web\"): expression: no cost category is named 'Nope'."
    assert caught.value.field == "rules[0].expression"


def test_a_category_cannot_look_at_itself(admin_a: User, team: CostCategory) -> None:
    with refused("category_cycle") as caught:
        ruleset_create(
            actor=admin_a,
            category=team,
            effective_month=JAN,
            rules=[regular("Web", category_is("Team", "Data"))],
        )

    assert "(Team -> Team)" in caught.value.message


def test_a_cycle_through_other_categories_is_refused_naming_them(
    admin_a: User, team: CostCategory, unit: CostCategory
) -> None:
    customer = cost_category_create(actor=admin_a, name="Customer")
    ruleset_create(
        actor=admin_a,
        category=unit,
        effective_month=JAN,
        rules=[regular("Retail", category_is("Customer", "Acme"))],
    )
    ruleset_create(
        actor=admin_a,
        category=customer,
        effective_month=JAN,
        rules=[regular("Acme", category_is("Team", "Web"))],
    )

    with refused("category_cycle") as caught:
        ruleset_create(
            actor=admin_a,
            category=team,
            effective_month=MAR,
            rules=[
                regular("Web", service_is("S3")),
                regular("Ops", category_is("Business unit", "Retail")),
            ],
        )

    assert caught.value.message == (
        'rule 2 ("Ops"): expression: the categories refer to each other in a cycle '
        "(Team -> Business unit -> Customer -> Team)."
    )
    assert caught.value.field == "rules[1].expression"


def test_a_reference_dropped_before_the_month_makes_no_cycle(
    admin_a: User, team: CostCategory, unit: CostCategory
) -> None:
    ruleset_create(
        actor=admin_a,
        category=unit,
        effective_month=JAN,
        rules=[regular("Retail", category_is("Team", "Web"))],
    )
    ruleset_create(actor=admin_a, category=unit, effective_month=MAR, rules=[])
    rules = [regular("Web", category_is("Business unit", "Retail"))]

    assert ruleset_create(actor=admin_a, category=team, effective_month=MAR, rules=rules)
    with refused("category_cycle"):
        ruleset_create(actor=admin_a, category=team, effective_month=JAN, rules=rules)
