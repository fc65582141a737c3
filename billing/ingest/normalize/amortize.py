"""CUR line item types: their FOCUS charge category and frequency, and amortized cost.

ChargeCategory follows the FinOps Foundation's CUR-to-FOCUS converter and AWS's own FOCUS
export, which folds discounts into the usage they reduce: every usage line, the Savings Plan
negation and the discount lines (EdpDiscount, PrivateRateDiscount, BundledDiscount,
RiVolumeDiscount, any other `...Discount`) are `Usage`, `Usage-Based`; RIFee and
SavingsPlanRecurringFee are `Purchase`, `Recurring`; Fee and SavingsPlanUpfrontFee are
`Purchase`, `One-Time`; Credit and Refund are `Credit`, `One-Time` (ChargeClass stays null:
a CUR does not say whether a refund corrects an earlier period); Tax is `Tax`, `Recurring`
(one line per month and service). ChargeClass is null for every line.

EffectiveCost (amortized) per line item type, exactly as in BILLING-DATA.md. Most rows take
a column's text as it is; the two sums (RIFee, SavingsPlanRecurringFee) use Python Decimal
on those few rows only. Savings Plan columns are read only on Savings Plan lines and
reservation columns only on reservation lines; where a line's own column has no readable
value, its EffectiveCost is its BilledCost (as for a file without those columns), reported.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.normalize.common import EXACT, IssueLog, valid_mask
from billing.ingest.normalize.decimals import Decimals, plain_decimal

USAGE, DISCOUNTED, SP_COVERED, SP_NEGATION, DISCOUNT = 1, 2, 3, 4, 5
RI_FEE, SP_RECURRING, SP_UPFRONT, FEE, TAX, CREDIT, UNKNOWN = 6, 7, 8, 9, 10, 11, 0

# line item type -> (code, ChargeCategory, ChargeFrequency)
LINE_ITEM_TYPES: dict[str, tuple[int, str, str]] = {
    "Usage": (USAGE, "Usage", "Usage-Based"),
    "DiscountedUsage": (DISCOUNTED, "Usage", "Usage-Based"),
    "SavingsPlanCoveredUsage": (SP_COVERED, "Usage", "Usage-Based"),
    "SavingsPlanNegation": (SP_NEGATION, "Usage", "Usage-Based"),
    "RIFee": (RI_FEE, "Purchase", "Recurring"),
    "SavingsPlanRecurringFee": (SP_RECURRING, "Purchase", "Recurring"),
    "SavingsPlanUpfrontFee": (SP_UPFRONT, "Purchase", "One-Time"),
    "Fee": (FEE, "Purchase", "One-Time"),
    "Tax": (TAX, "Tax", "Recurring"),
    "Credit": (CREDIT, "Credit", "One-Time"),
    "Refund": (CREDIT, "Credit", "One-Time"),
}


def classify(line_item_type: str) -> tuple[int, str | None, str | None]:
    found = LINE_ITEM_TYPES.get(line_item_type)
    if found:
        return found
    if line_item_type.endswith("Discount"):
        return DISCOUNT, "Usage", "Usage-Based"
    return UNKNOWN, None, None


class Amortizer:
    """Computes EffectiveCost for one batch of CUR rows."""

    def __init__(
        self,
        code: np.ndarray,
        unblended: Decimals,
        numbers: Mapping[str, Decimals],
        names: Mapping[str, str],
        log: IssueLog,
    ) -> None:
        self.code, self.numbers, self.names, self.log = code, numbers, names, log
        self.cost = unblended.text

    def _take(self, mask: np.ndarray, field: str) -> None:
        """Rows in `mask` take `field`'s value; a row without one keeps its BilledCost."""
        if not mask.any():
            return
        source = self.numbers[field]
        present = valid_mask(source.text)
        self._missing(mask & ~present, field)
        self.cost = pc.if_else(pa.array(mask & present), source.text, self.cost)

    def _missing(self, missing: np.ndarray, field: str) -> None:
        name = self.names[field]
        self.log.interpret(
            name,
            missing,
            self.numbers[field].text,
            f"{name} is needed for the amortized cost of this line but missing: "
            "EffectiveCost = BilledCost",
        )

    def _zero(self, mask: np.ndarray) -> None:
        if mask.any():
            self.cost = pc.if_else(pa.array(mask), "0", self.cost)

    def _combine(self, mask: np.ndarray, first: str, second: str, *, subtract: bool) -> None:
        """Rows in `mask` take first + second (or first - second), exactly; a row without
        both keeps its BilledCost."""
        index = np.flatnonzero(mask)
        if not index.size:
            return
        values: list[str | None] = []
        for field in (first, second):
            self._missing(mask & ~valid_mask(self.numbers[field].text), field)
        for i in index.tolist():
            a, b = self.numbers[first].exact(i), self.numbers[second].exact(i)
            if a is None or b is None:
                values.append(self.cost[i].as_py())
                continue
            total = EXACT.subtract(a, b) if subtract else EXACT.add(a, b)
            values.append(plain_decimal(total))
        self.cost = pc.replace_with_mask(self.cost, pa.array(mask), pa.array(values, pa.string()))

    def savings_plans(self) -> None:
        code = self.code
        self._take(code == SP_COVERED, "sp_effective_cost")
        self._combine(
            code == SP_RECURRING, "sp_total_commitment", "sp_used_commitment", subtract=True
        )
        self._zero((code == SP_NEGATION) | (code == SP_UPFRONT))

    def reservations(self, ri_arn: pa.Array | None) -> None:
        code = self.code
        self._take(code == DISCOUNTED, "ri_effective_cost")
        self._combine(code == RI_FEE, "ri_unused_upfront", "ri_unused_recurring", subtract=False)
        if ri_arn is not None:
            self._zero((code == FEE) & valid_mask(ri_arn))
