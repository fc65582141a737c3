"""Billing transfers decide who pays: three payers over six months, chains resolved.

B transfers to C from January to the end of May; A transfers to B from February on. So A
is paid for by A in January, by C (through B) from February to May, and by B in June; B
by C until May, then by itself. Each payer delivers its own bill every month, except that
in April C's bill carries A's account instead of A's own bill.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billing.ingest import pipeline
from billing.models import Account, IngestStatus, LoadedPeriod
from billing.services import account_create, organization_create
from billing.services.ingests import ingest_job_create
from billing.services.transfers import (
    billing_transfer_accept,
    billing_transfer_invite,
    billing_transfer_withdraw,
)
from billing.transfer_effects import transfer_effects_apply
from insights.query import CostQuery
from insights.selectors import cost_explorer
from invoices.models import Invoice, InvoiceStatus
from invoices.reconcile import reconcile
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.audit.models import AuditEntry
from portal.users.models import Role
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run
from tests.billing.ingest_fakes import FakeFiles, batch, line
from tests.conftest import make_user
from tests.invoices.world import plan, seller, unit

D = Decimal
MONTHS = [date(2026, m, 1) for m in range(1, 7)]
JAN, FEB, MAR, APR, MAY, JUN = MONTHS
PAYERS = {"A": "100000000001", "B": "100000000002", "C": "100000000003"}
MEMBERS = {"A": "200000000001", "B": "200000000002", "C": "200000000003"}


def cost(letter: str, month: date) -> D:
    return {"A": D("100.004"), "B": D("20.02"), "C": D("3.5")}[letter] + month.month


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def bill_line(payer: str, member: str, month: date, amount: D) -> dict[str, Any]:
    return line(
        billing_period_start=month.isoformat(),
        billing_period_end=next_month(month).isoformat(),
        billing_account_id=PAYERS[payer],
        sub_account_id=MEMBERS[member],
        sub_account_name=f"{member.lower()}-prod",
        charge_period_start=f"{month:%Y-%m}-05T00:00:00Z",
        charge_period_end=f"{month:%Y-%m}-05T01:00:00Z",
        billed_cost=str(amount),
        effective_cost=str(amount),
        list_cost=str(amount),
    )


def month_bill(month: date) -> list[dict[str, Any]]:
    if month == APR:  # C's bill carries A's account; A sends none
        return [
            bill_line("B", "B", month, cost("B", month)),
            bill_line("C", "C", month, cost("C", month)),
            bill_line("C", "A", month, cost("A", month)),
        ]
    return [bill_line(p, p, month, cost(p, month)) for p in "ABC"]


@pytest.fixture
def chain(tenant_a: Any, files: FakeFiles) -> dict[str, Any]:
    admin = make_user(Role.ADMIN, "ada")
    payers = {}
    for letter in "ABC":
        org = organization_create(
            actor=admin,
            name=f"Org {letter}",
            management_account_id=PAYERS[letter],
            management_account_name=f"payer-{letter.lower()}",
        )
        account_create(
            actor=admin, account_id=MEMBERS[letter], name=f"{letter.lower()}-prod", organization=org
        )
        payers[letter] = Account.objects.get(account_id=PAYERS[letter])
    b_to_c = billing_transfer_invite(
        actor=admin,
        source=payers["B"],
        destination=payers["C"],
        start_date=JAN,
        end_date=date(2026, 5, 31),
        today=date(2025, 12, 1),
    )
    billing_transfer_accept(actor=admin, transfer=b_to_c, today=date(2025, 12, 2))
    a_to_b = billing_transfer_invite(
        actor=admin,
        source=payers["A"],
        destination=payers["B"],
        start_date=FEB,
        today=date(2026, 1, 10),
    )
    billing_transfer_accept(actor=admin, transfer=a_to_b, today=date(2026, 1, 11))
    for month in MONTHS:
        ingest(files, month_bill(month), name=f"{month:%Y-%m}.csv")
    category = category_with(
        "End customer",
        [regular(f"Org {p}", cond("account", "equals", MEMBERS[p])) for p in "ABC"],
    )
    for month in MONTHS:
        run(category, month)
    seller()
    standard = plan(everything="10")
    for letter in "ABC":
        unit(f"Org {letter}", standard)
    return {"admin": admin, "payers": payers, "a_to_b": a_to_b, "category": category}


EXPECTED = {  # month -> member's organization -> payer of record
    JAN: {"A": "A", "B": "C", "C": "C"},
    **{month: {"A": "C", "B": "C", "C": "C"} for month in (FEB, MAR, APR, MAY)},
    JUN: {"A": "B", "B": "B", "C": "C"},
}


def expected_by_payer(month: date, expected: dict[str, str]) -> dict[str, D]:
    sums: dict[str, D] = {}
    for letter, record in expected.items():
        sums[PAYERS[record]] = sums.get(PAYERS[record], D(0)) + cost(letter, month)
    return sums


def explorer_by_payer(user: Any) -> dict[date, dict[str, D]]:
    query = CostQuery(
        start=JAN, end=date(2026, 7, 1), granularity="monthly", group_by=("payer",), limit=100
    )
    answer = cost_explorer(user=user, query=query)
    found: dict[date, dict[str, D]] = {month: {} for month in MONTHS}
    for group in answer.groups:
        for point in group.series:
            if point.amount:
                found[point.date][group.keys[0]] = point.amount
    return found


def test_every_months_cost_is_on_its_payer_of_record_in_the_explorer(
    chain: dict[str, Any],
) -> None:
    found = explorer_by_payer(chain["admin"])

    for month in MONTHS:
        assert found[month] == expected_by_payer(month, EXPECTED[month]), month
    # Every cent once: the months' totals are the bills' totals.
    assert sum(sum(m.values()) for m in found.values()) == sum(
        cost(p, month) for p in "ABC" for month in MONTHS
    )


def test_the_organization_dimension_names_whose_cost_a_transferred_bill_carries(
    chain: dict[str, Any],
) -> None:
    query = CostQuery(start=APR, end=MAY, group_by=("payer", "organization"), limit=100)
    answer = cost_explorer(user=chain["admin"], query=query)

    assert {g.keys: g.total for g in answer.groups} == {
        (PAYERS["C"], f"Org {p}"): cost(p, APR) for p in "ABC"
    }


def test_each_invoice_names_the_payer_of_record_its_cost_was_paid_by(
    chain: dict[str, Any],
) -> None:
    for month in MONTHS:
        invoice_drafts_create(period=month)

    for month in MONTHS:
        for letter in "ABC":
            invoice = Invoice.objects.get(period=month, unit__value=f"Org {letter}")
            record = PAYERS[EXPECTED[month][letter]]
            [paid_by] = invoice.payers_of_record
            assert (paid_by["payer"], D(paid_by["wholesale"])) == (record, cost(letter, month))
            assert D(paid_by["wholesale"]) == invoice.wholesale_total


def test_the_reconciliation_says_which_organizations_each_payer_of_record_carries(
    chain: dict[str, Any],
) -> None:
    for month in MONTHS:
        result = reconcile(month)
        carried = {
            payer.payer: {org.name: org.amounts.billed_cost for org in payer.organizations}
            for payer in result.payers
        }
        expected: dict[str, dict[str, D]] = {}
        for letter, record in EXPECTED[month].items():
            expected.setdefault(PAYERS[record], {})[f"Org {letter}"] = cost(letter, month)
        assert carried == expected, month
        assert sum(p.amounts.billed_cost for p in result.payers) == result.ingested.billed_cost

    april = {p.payer: p for p in reconcile(APR).payers}[PAYERS["C"]]
    bills = {o.name: o.bills for o in april.organizations}
    assert bills["Org A"] == ["payer-c (100000000003)"]  # C's own bill carried A's account
    assert bills["Org B"] == ["payer-b (100000000002)"]
    assert april.transferred_from == ["payer-b (100000000002)"]


def test_a_second_bill_of_the_same_payer_of_record_for_an_account_is_refused(
    chain: dict[str, Any], files: FakeFiles
) -> None:
    # A's own bill for April, after C's bill carried A's account for April.
    path = files.add("a-april.csv", batch([bill_line("A", "A", APR, D("999"))]))
    job = pipeline.run_ingest(ingest_job_create(actor=None, paths=[path], enqueue=False).pk)

    assert job.status == IngestStatus.FAILED
    assert "200000000001" in job.message and "payer-c (100000000003)" in job.message
    assert "counted once" in job.message
    assert not LoadedPeriod.objects.filter(billing_period_start=APR, billing_account_id=PAYERS["A"])
    assert explorer_by_payer(chain["admin"])[APR] == expected_by_payer(APR, EXPECTED[APR])


def test_withdrawing_recomputes_the_months_it_changes_and_leaves_issued_invoices(
    chain: dict[str, Any],
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billing import tasks as billing_tasks
    from invoices import tasks as invoice_tasks
    from invoices.models import InvoiceRun
    from invoices.services.runs import invoice_run_execute

    for month in MONTHS:
        invoice_drafts_create(period=month)
    issued = invoice_issue(actor=None, invoice=Invoice.objects.get(period=MAR, unit__value="Org A"))
    may_before = Invoice.objects.get(period=MAY, unit__value="Org A")
    monkeypatch.setattr(
        billing_tasks.transfer_effects,
        "delay",
        lambda schema, pk: transfer_effects_apply(transfer_id=pk),
    )
    monkeypatch.setattr(
        invoice_tasks.invoice_run,
        "delay",
        lambda schema, pk: invoice_run_execute(actor=None, run=InvoiceRun.objects.get(pk=pk)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        billing_transfer_withdraw(
            actor=chain["admin"],
            transfer=chain["a_to_b"],
            end_date=date(2026, 3, 31),
            today=date(2026, 3, 20),
        )

    expected = {**EXPECTED, APR: EXPECTED[APR], MAY: {**EXPECTED[MAY], "A": "A"}}
    expected[JUN] = {**EXPECTED[JUN], "A": "A"}
    found = explorer_by_payer(chain["admin"])
    for month in MONTHS:
        if month != APR:  # C's own bill carries A's April cost: C still pays it
            assert found[month] == expected_by_payer(month, expected[month]), month
    may_bill = LoadedPeriod.objects.get(billing_period_start=MAY, billing_account_id=PAYERS["A"])
    assert (may_bill.payer_of_record, may_bill.payer_chain) == (PAYERS["A"], [PAYERS["A"]])
    # The open draft of May is drafted again, on A; the issued March invoice is unchanged.
    may_after = Invoice.objects.get(period=MAY, unit__value="Org A")
    assert may_after.pk != may_before.pk
    assert [p["payer"] for p in may_after.payers_of_record] == [PAYERS["A"]]
    kept = Invoice.objects.get(pk=issued.pk)
    assert kept.status == InvoiceStatus.ISSUED
    assert kept.payers_of_record == issued.payers_of_record
    assert kept.total == issued.total and kept.number == issued.number
    effects = AuditEntry.objects.get(action="billingtransfer.effects").after
    assert effects is not None and effects["months"] == ["2026-05", "2026-06"]


def test_the_source_organizations_users_see_its_resale_in_every_month_and_no_wholesale(
    chain: dict[str, Any],
) -> None:
    from billing.models import EndCustomer
    from invoices.models import BillingUnit
    from portal.core.errors import ApplicationError

    customer = EndCustomer.objects.create(legal_name="Org A Ltd")
    customer.payers.add(chain["payers"]["A"])
    BillingUnit.objects.filter(value="Org A").update(end_customer=customer)
    viewer = make_user(Role.END_CUSTOMER, "alice-a")
    customer.viewers.add(viewer)
    query = CostQuery(start=JAN, end=date(2026, 7, 1), granularity="monthly", metric="resale")

    with pytest.raises(ApplicationError, match="not yours to see"):
        cost_explorer(user=viewer, query=CostQuery(start=JAN, end=date(2026, 7, 1)))
    answer = cost_explorer(user=viewer, query=query)
    by_month = {point.date: point.amount for point in answer.groups[0].series}

    # Its own cost at its plan's price (10 % on top, exact until display), whoever paid
    # for the month; April's came on C's bill.
    assert by_month == {month: cost("A", month) * D("1.1") for month in MONTHS}


def test_the_transfer_page_lists_the_loaded_bills_it_moves(
    chain: dict[str, Any], client_a: Any
) -> None:
    client_a.force_login(chain["admin"])

    page = client_a.get(f"/org/transfers/{chain['a_to_b'].pk}/").content.decode()

    # A's own bills of February, March, May and June are paid by C (then B) through it;
    # April's cost came on C's bill, which this transfer does not move.
    for month, record in (("2026-02", "c"), ("2026-03", "c"), ("2026-05", "c"), ("2026-06", "b")):
        assert f"<td>{month}</td><td>payer-a (100000000001)</td><td>payer-{record}" in page
    assert "<td>2026-04</td>" not in page and "<td>2026-01</td>" not in page
    assert "cannot be undone" in page
