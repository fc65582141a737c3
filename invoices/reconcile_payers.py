"""The reconciliation's view of who pays: per payer of record, the organizations whose
cost it carries in the period, from which payers' bills, with the exact ingested sums.

Every cost of the period is under exactly one payer of record (the bills' payers of
record come from `billing.payers`), so the payers' totals add up to the ingested total.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from billing.models import Account, LoadedPeriod
from invoices.reconcile import COLUMNS, Amounts, total

# The rollup's sums equal the line items' (exact numeric sums of them), in fewer rows.
CARRIED_SQL = f"""
    SELECT billing_account_id, coalesce(sub_account_id, ''),
           {", ".join(f"sum({column})" for column in COLUMNS)}
    FROM billing_cost_rollup
    WHERE billing_period_start = %s
    GROUP BY 1, 2
"""
NO_ORGANIZATION = "Accounts in no organization"


@dataclass
class CarriedOrganization:
    name: str
    bills: list[str]  # the payers (named) whose bills carried its cost
    accounts: int
    amounts: Amounts


@dataclass
class PayerOfRecord:
    payer: str  # account id
    name: str
    transferred_from: list[str] = field(default_factory=list)  # other payers' names
    organizations: list[CarriedOrganization] = field(default_factory=list)

    @property
    def amounts(self) -> Amounts:
        return total([o.amounts for o in self.organizations])


def payers_of_record_carried(period: date) -> list[PayerOfRecord]:
    """Each payer of record of the period with the organizations it pays for."""
    records = dict(
        LoadedPeriod.objects.filter(billing_period_start=period).values_list(
            "billing_account_id", "payer_of_record"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(CARRIED_SQL, [period])
        rows = cursor.fetchall()
    accounts = {
        a.account_id: a
        for a in Account.objects.select_related("organization", "managed_organization").filter(
            account_id__in={r[0] for r in rows} | {r[1] for r in rows} | set(records.values())
        )
    }

    def named(account_id: str) -> str:
        found = accounts.get(account_id)
        return str(found) if found else account_id

    def organization(account_id: str, bill_payer: str) -> str:
        for candidate in (account_id, bill_payer):
            found = accounts.get(candidate)
            if found is not None and found.organization is not None:
                return found.organization.name
            if found is not None and hasattr(found, "managed_organization"):
                return found.managed_organization.name
        return NO_ORGANIZATION

    carried: dict[str, dict[str, list[Amounts]]] = defaultdict(lambda: defaultdict(list))
    bills: dict[tuple[str, str], set[str]] = defaultdict(set)
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for bill_payer, account_id, *sums in rows:
        record = records.get(bill_payer) or bill_payer
        name = organization(account_id, bill_payer)
        carried[record][name].append(Amounts(*sums))
        bills[record, name].add(bill_payer)
        members[record, name].add(account_id)
    result = []
    for record in sorted(carried, key=named):
        payer = PayerOfRecord(payer=record, name=named(record))
        payer.transferred_from = sorted(
            named(bill) for bill, found in records.items() if found == record and bill != record
        )
        for name in sorted(carried[record]):
            payer.organizations.append(
                CarriedOrganization(
                    name=name,
                    bills=sorted(named(b) for b in bills[record, name]),
                    accounts=len(members[record, name]),
                    amounts=total(carried[record][name]),
                )
            )
        result.append(payer)
    return result
