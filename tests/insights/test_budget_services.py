"""Budgets are written through services: checked, with their thresholds, and audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billing.models import Team
from insights.budgets.services import budget_create, budget_delete, budget_update
from insights.models import Budget, BudgetAlert
from portal.audit.models import AuditEntry
from portal.core.errors import ApplicationError
from portal.users.models import Role
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("tenant_a")
THRESHOLDS = [
    {"kind": "percent", "value": "90", "basis": "actual"},
    {"kind": "percent", "value": "100", "basis": "forecast"},
    {"kind": "percent", "value": "150", "basis": "actual"},
]


def test_a_team_budget_with_its_thresholds_is_created_and_audited() -> None:
    team = Team.objects.create(name="Payments")

    budget = budget_create(
        actor=None,
        name="Payments monthly",
        scope="team",
        team=team,
        amount=Decimal("1200"),
        thresholds=THRESHOLDS,
    )

    assert [str(t) for t in budget.thresholds.all()] == [
        "90 % of actual spend",
        "150 % of actual spend",
        "100 % of forecast spend",
    ]
    entry = AuditEntry.objects.get(action="budget.create")
    assert entry.after is not None and len(entry.after["thresholds"]) == 3


def test_a_team_budget_without_a_team_is_refused_naming_the_field() -> None:
    with pytest.raises(ApplicationError) as refused:
        budget_create(actor=None, name="Nobody's", scope="team", amount=Decimal("10"))

    assert refused.value.field == "team"
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "percent", "value": "0"}, "thresholds[0].value"),
        ({"kind": "tenfold", "value": "5"}, "thresholds[0].kind"),
        ({"value": "5", "basis": "hope"}, "thresholds[0].basis"),
    ],
)
def test_a_bad_threshold_is_refused_and_nothing_is_saved(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        budget_create(actor=None, name="All", amount=Decimal("10"), thresholds=[spec])

    assert refused.value.field == field
    assert not Budget.objects.exists()


def test_monthly_amounts_must_be_months_with_amounts() -> None:
    with pytest.raises(ApplicationError, match="'Jan'"):
        budget_create(actor=None, name="All", amount=Decimal("10"), monthly_amounts={"Jan": "5"})


def test_an_update_replaces_thresholds_and_records_before_and_after() -> None:
    admin = make_user(Role.ADMIN)
    budget = budget_create(actor=admin, name="All", amount=Decimal("10"), thresholds=THRESHOLDS)

    budget = budget_update(
        actor=admin, budget=budget, amount=Decimal("20"), thresholds=[{"value": "80"}]
    )
    budget_delete(actor=admin, budget=budget)

    entry = AuditEntry.objects.get(action="budget.update")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["amount"], entry.after["amount"]) == ("10.00", "20")
    assert entry.after["thresholds"] == ["80 % of actual spend"]
    assert AuditEntry.objects.filter(action="budget.delete").exists()
    assert not Budget.objects.exists()


def test_a_threshold_listed_twice_is_refused() -> None:
    with pytest.raises(ApplicationError, match="listed twice"):
        budget_create(
            actor=None,
            name="All",
            amount=Decimal("10"),
            thresholds=[{"value": "90.0"}, {"value": "90"}],
        )


def test_an_edit_keeps_the_thresholds_it_keeps_and_their_alerts() -> None:
    budget = budget_create(actor=None, name="All", amount=Decimal("10"), thresholds=THRESHOLDS)
    kept = budget.thresholds.get(value=90)
    alert = BudgetAlert.objects.create(
        threshold=kept,
        period_start=date(2026, 1, 1),
        budget_amount=Decimal("10"),
        actual=Decimal("9.5"),
        currency="USD",
    )

    budget_update(
        actor=None,
        budget=budget,
        name="All of it",
        thresholds=[{"value": "90.00"}, {"value": "120", "basis": "forecast"}],
    )

    assert budget.thresholds.get(value=90).pk == kept.pk
    assert BudgetAlert.objects.filter(pk=alert.pk).exists()  # it does not fire again
    assert sorted(str(t) for t in budget.thresholds.all()) == [
        "120 % of forecast spend",
        "90 % of actual spend",
    ]
