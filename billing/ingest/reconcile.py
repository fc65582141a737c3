"""The check every ingest passes before anything is published: sums match to the cent."""

from __future__ import annotations

from decimal import localcontext

from billing.ingest.contract import EXACT_DIGITS
from billing.ingest.staging import PeriodLoad


class IngestCheckError(Exception):
    """The stored data would not match the source; nothing is published."""


def check_sums(loads: list[PeriodLoad]) -> None:
    """Source = stored + rejected, per period and payer, for rows and both cost columns."""
    for load in loads:
        period, payer = load.key
        for label, source, stored, rejected in (
            ("rows", load.source.rows, load.stored.rows, load.rejected.rows),
            (
                "BilledCost",
                load.source.billed_cost,
                load.stored.billed_cost,
                load.rejected.billed_cost,
            ),
            (
                "EffectiveCost",
                load.source.effective_cost,
                load.stored.effective_cost,
                load.rejected.effective_cost,
            ),
        ):
            with localcontext(prec=EXACT_DIGITS):
                matches = source == stored + rejected
            if not matches:
                raise IngestCheckError(
                    f"Billing period {period[:7]} of payer {payer}: the files' {label} is "
                    f"{source}, but {stored} was stored and {rejected} rejected."
                )
