"""Which payers of record an invoice's cost was paid by (billing transfers resolved).

An invoice keeps, when drafted, the wholesale it carries per payer of record: the payer
that paid the cloud provider for that month once transfers are in force, with the bills
(payers) it came from. Issued invoices keep what they were drafted with.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from billing.payers import payer_names, payers_of_record


class PayerBreakdown:
    """The period's payers of record and payers' names, read once for a run's invoices."""

    def __init__(self, period: date) -> None:
        self.records = payers_of_record(period)
        self.names = payer_names({*self.records, *self.records.values()})

    def __call__(self, by_payer: dict[str, dict[str, Decimal]], basis: str) -> list[dict[str, Any]]:
        """[{payer, name, bills, transferred, wholesale}] per payer of record, largest
        first; exact amounts as strings (JSON has no decimals)."""
        wholesale: dict[str, Decimal] = defaultdict(Decimal)
        bills: dict[str, set[str]] = defaultdict(set)
        for payer, sums in by_payer.items():
            if not payer:
                continue  # results of runs made before they kept their payer: run again
            record = self.records.get(payer) or payer
            wholesale[record] += sums[basis]
            bills[record].add(payer)
        return [
            {
                "payer": record,
                "name": self.names.get(record, record),
                "bills": [
                    {"payer": bill, "name": self.names.get(bill, bill)}
                    for bill in sorted(bills[record])
                ],
                "transferred": bills[record] != {record},
                "wholesale": str(amount),
            }
            for record, amount in sorted(wholesale.items(), key=lambda item: (-item[1], item[0]))
        ]
