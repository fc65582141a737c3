"""manage.py invoice_run and reconcile: print what they did, exit non-zero when they must."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from allocation.models import CostCategory
from allocation.services import ruleset_create
from invoices.management.commands.reconcile import Command
from invoices.models import Invoice, InvoiceRun, InvoiceRunStatus, InvoiceStatus
from invoices.reconcile import Amounts
from portal.audit.models import AuditEntry
from tests.allocation.run_helpers import JAN, category_with, cond, regular, run
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.world import allocate, plan, seller, unit


def command(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def month(files: FakeFiles) -> CostCategory:
    allocate(files)
    seller()
    standard = plan(everything="10")
    unit("Globex", standard)
    unit("Initech", standard)
    unit("Umbrella", None)
    return CostCategory.objects.get(name="End customer")


def test_invoice_run_drafts_issues_and_prints_each_unit(month: CostCategory) -> None:
    out = command("invoice_run", "--tenant", "alpha", "--period", "2026-01", "--issue")

    run = InvoiceRun.objects.get()
    assert run.status == InvoiceRunStatus.SUCCEEDED and run.issue
    globex = Invoice.objects.get(unit__value="Globex")
    assert globex.status == InvoiceStatus.ISSUED
    assert f"Invoice run {run.pk} for 2026-01: succeeded" in out
    assert globex.number is not None and globex.number in out
    assert f"{globex.total:.2f}" in out
    assert "Total USD: 2 invoice(s)" in out
    assert "Umbrella Inc.: has no pricing plan; set one to invoice it." in out
    request = AuditEntry.objects.get(action="invoicerun.request", object_id=str(run.pk))
    assert request.actor_name == "manage.py invoice_run"


def test_invoice_run_without_issue_leaves_drafts(month: CostCategory) -> None:
    out = command("invoice_run", "--tenant", "alpha", "--period", "2026-01")

    assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.DRAFT}
    assert "2 invoice(s) drafted, 0 issued." in out


def test_a_failed_invoice_run_exits_non_zero(files: FakeFiles) -> None:
    allocate(files)
    with pytest.raises(CommandError, match="no billing units"):
        command("invoice_run", "--tenant", "alpha", "--period", "2026-01")
    assert InvoiceRun.objects.get().status == InvoiceRunStatus.FAILED


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nowhere", "--period", "2026-01"], "No tenant has the schema 'nowhere'"),
        (["--tenant", "alpha", "--period", "2026-13"], "YYYY-MM, not '2026-13'"),
        (["--tenant", "alpha", "--period", "january"], "YYYY-MM, not 'january'"),
    ],
)
@pytest.mark.parametrize("name", ["invoice_run", "reconcile"])
def test_bad_arguments_are_named(tenant_a: Any, name: str, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        command(name, *args)


def test_reconcile_prints_the_table_and_passes_when_balanced(month: CostCategory) -> None:
    command("invoice_run", "--tenant", "alpha", "--period", "2026-01")

    out = command("reconcile", "--tenant", "alpha", "--period", "2026-01")

    assert "End customer (allocation run" in out and "balanced" in out
    lines = {line.split("  ")[1].strip(): line.split() for line in out.splitlines() if "  " in line}
    assert lines["Ingested"][-3:] == ["233.453"] * 3
    assert lines["Invoiced, drafts"][-3:] == ["221.113"] * 3
    assert lines["Unallocated (Unallocated)"][-3:] == ["12.34"] * 3
    assert lines["Difference"][-3:] == ["0.000"] * 3
    assert "Umbrella Inc." in out and "has no pricing plan" in out


def test_reconcile_exits_non_zero_on_a_difference(month: CostCategory) -> None:
    command("invoice_run", "--tenant", "alpha", "--period", "2026-01")
    rules = [regular("Globex", cond("tag", "equals", "globex", key="customer"))]
    category_with("Other", rules)  # not billed: not reconciled
    ruleset_create(actor=None, category=month, effective_month=JAN, rules=rules)
    run(month)

    out = StringIO()
    with pytest.raises(CommandError, match="2026-01 does not reconcile: End customer has"):
        call_command("reconcile", "--tenant", "alpha", "--period", "2026-01", stdout=out)
    assert "DIFFERENCE" in out.getvalue()
    assert "-57.770" in out.getvalue()


def test_reconcile_names_a_period_without_data(month: CostCategory) -> None:
    with pytest.raises(CommandError, match="No cost data is loaded and no invoice exists"):
        command("reconcile", "--tenant", "alpha", "--period", "2026-03")


def test_reconcile_without_billing_units_says_so(tenant_a: Any) -> None:
    with pytest.raises(CommandError, match="No billing units exist"):
        command("reconcile", "--tenant", "alpha", "--period", "2026-01")


def test_reconcile_prints_tiny_and_zero_figures_in_fixed_point() -> None:
    out = StringIO()
    Command(stdout=out)._row("Difference", Amounts(Decimal("0E-10"), Decimal("1E-7"), Decimal(0)))

    assert out.getvalue().split() == ["Difference", "0.0000000000", "0.0000001", "0"]
