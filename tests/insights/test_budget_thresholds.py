"""Budget thresholds fire once per budget period, however often and concurrently checked."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from insights.budgets.check import budget_check, budgets_check
from insights.budgets.spend import budget_spend, period_of
from insights.models import Budget, BudgetAlert, BudgetThreshold, NotificationDelivery
from insights.notifications.services import endpoint_create
from portal.audit.models import AuditEntry
from tests.allocation.run_helpers import committed_tenant_with_bills, ingest, use_fake_files
from tests.billing.ingest_fakes import line

D = Decimal
TODAY = date(2026, 1, 20)  # cost of 1-19 January counts


def bill() -> list[dict[str, Any]]:
    return [line(billed_cost="60.25"), line(service_name="Amazon S3", billed_cost="35.125")]


def tenant_budget() -> Budget:
    budget = Budget.objects.create(name="Everything", amount=D("100"))
    for kind, value, basis in (
        ("percent", "90", "actual"),
        ("percent", "100", "forecast"),
        ("percent", "150", "actual"),
        ("absolute", "95.37", "actual"),
        ("absolute", "95.38", "actual"),
    ):
        BudgetThreshold.objects.create(budget=budget, kind=kind, value=D(value), basis=basis)
    return budget


def fired_thresholds() -> list[str]:
    return sorted(str(a.threshold) for a in BudgetAlert.objects.all())


@pytest.fixture
def month(tenant_a: Any, tmp_path: Path, monkeypatch: Any) -> Budget:
    ingest(use_fake_files(tmp_path, monkeypatch), bill())
    return tenant_budget()


def test_the_spend_is_the_explorers_cost_of_the_period_so_far_and_its_run_rate(
    month: Budget,
) -> None:
    spend = budget_spend(month, TODAY)

    assert (spend.period_start, spend.period_end) == (date(2026, 1, 1), date(2026, 2, 1))
    assert spend.actual == D("95.375")
    assert spend.forecast == D("95.375") * 31 / 19
    assert spend.actual_percent == D("95.4")


def test_each_crossed_threshold_fires_once_however_often_it_is_checked(month: Budget) -> None:
    first = budget_check(month, TODAY)
    again = budget_check(month, date(2026, 1, 25))

    # 95.375 is past 90 % and 95.37, not 95.38 nor 150 %; the forecast (155.6) is past 100 %.
    assert sorted(str(f.alert.threshold) for f in first) == [
        "100 % of forecast spend",
        "90 % of actual spend",
        "95.37 of actual spend",
    ]
    assert again == []
    assert fired_thresholds() == [
        "100 % of forecast spend",
        "90 % of actual spend",
        "95.37 of actual spend",
    ]
    assert AuditEntry.objects.filter(action="budget.alert").count() == 3
    alert = BudgetAlert.objects.get(threshold__value=D("90"))
    assert (alert.period_start, alert.actual, alert.budget_amount) == (
        date(2026, 1, 1),
        D("95.375"),
        D("100.00"),
    )


def test_a_new_period_fires_again_and_a_months_own_amount_counts(month: Budget) -> None:
    budget_check(month, TODAY)
    month.monthly_amounts = {"2026-02": "1000"}
    month.save()

    assert budget_check(month, date(2026, 2, 10)) == []  # no February cost, big budget
    assert period_of(month, date(2026, 2, 10))[0] == date(2026, 2, 1)


def test_nothing_fires_before_the_period_has_cost(month: Budget) -> None:
    assert budget_check(month, date(2026, 1, 1)) == []
    assert BudgetAlert.objects.count() == 0


SCHEMA = "budget_race"


@pytest.fixture(scope="module")
def committed_budget(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    with committed_tenant_with_bills(django_db_blocker, SCHEMA, tmp_path_factory) as files:
        ingest(files, bill())
        yield tenant_budget().pk


def test_two_concurrent_checks_fire_each_threshold_once(committed_budget: int) -> None:
    barrier = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def check() -> None:
        try:
            connection.set_schema(SCHEMA)  # type: ignore[attr-defined]
            budget = Budget.objects.get(pk=committed_budget)
            barrier.wait(timeout=30)
            counts.append(len(budget_check(budget, TODAY)))
        except BaseException as exc:  # handed to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    # Each of the three crossed thresholds fired by exactly one of the four checks.
    assert len(counts) == 4 and sum(counts) == 3
    connection.set_schema(SCHEMA)  # type: ignore[attr-defined]
    assert BudgetAlert.objects.count() == 3


def test_the_daily_task_checks_the_tenants_budgets(month: Budget, monkeypatch: Any) -> None:
    from django.utils import timezone

    from insights.tasks import check_budgets

    monkeypatch.setattr(timezone, "localdate", lambda: TODAY)

    assert check_budgets("alpha") == 3
    assert check_budgets("alpha") == 0


def test_a_bill_of_another_currency_in_the_history_leaves_the_run_rate_not_an_error(
    tenant_a: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, bill())
    eur = line(
        billing_period_start="2025-06-01",
        billing_period_end="2025-07-01",
        billing_account_id="999988887777",
        charge_period_start="2025-06-03T00:00:00Z",
        charge_period_end="2025-06-03T01:00:00Z",
        billed_cost="40.00",
        billing_currency="EUR",
    )
    ingest(files, [eur], name="eur.csv")
    budget = tenant_budget()

    spend = budget_spend(budget, TODAY)

    assert (spend.actual, spend.currency) == (D("95.375"), "USD")
    assert spend.forecast == D("95.375") * 31 / 19
    assert len(budget_check(budget, TODAY)) == 3


def test_a_budget_that_cannot_be_measured_leaves_the_others_checked_and_notified(
    month: Budget,
) -> None:
    endpoint_create(actor=None, name="FinOps", kind="email", target="finops@example.com")
    Budget.objects.create(
        name="Renamed category", amount=D("1"), filters=[["category:Gone", ["x"]]]
    )

    fired = budgets_check(TODAY)

    assert len(fired) == 3  # the tenant budget's, the broken one skipped
    # Each alert is stored with its delivery, in one transaction.
    assert sorted(d.subject_key for d in NotificationDelivery.objects.all()) == sorted(
        f"budget_alert:{f.alert.pk}" for f in fired
    )
