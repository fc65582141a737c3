"""The monthly rows of a bill: commitment fees, support, credits, discounts and tax.

They come after the usage rows, so tax, support and discounts are computed from the
usage actually generated (per account and product code).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from billing.generator import catalog as cat
from billing.generator.catalog import QTY_SCALE, Kind
from billing.generator.chunk import Chunk
from billing.generator.context import BillContext

CENT = 10**8  # in units of 1e-10


class UsageSums:
    """Unblended cost of the usage rows per (account, product code), as Python ints."""

    def __init__(self, ctx: BillContext) -> None:
        self.codes = ctx.products.product_codes()
        self.product = ctx.products.product_index()
        self.by = np.zeros((len(ctx.account_ids), len(self.codes)), dtype=object)

    def add(self, account: np.ndarray, combo: np.ndarray, unblended: np.ndarray) -> None:
        part = np.zeros(self.by.shape, dtype=np.int64)  # < 1e17 for a chunk of 100,000
        np.add.at(part, (account, self.product[combo]), unblended)
        self.by += part.astype(object)

    def total(self) -> int:
        return int(self.by.sum())

    def of(self, code: str, account: int | None = None) -> int:
        column = self.by[:, self.codes.index(code)]
        return int(column.sum() if account is None else column[account])


def capacity(ctx: BillContext) -> int:
    p = ctx.products
    upfronts = sum(1 for c in (*ctx.savings_plans, *ctx.reservations) if c.upfront)
    taxes = len(ctx.account_ids) * len(p.tax)
    return 1 + len(ctx.reservations) + upfronts + 2 + len(p.edp) + 1 + taxes


def build(ctx: BillContext, rng: np.random.Generator, sums: UsageSums, n: int) -> Chunk:
    """The first `n` of the monthly rows (the most telling first)."""
    p, hours, total = ctx.products, ctx.hours, sums.total()
    rows: list[dict[str, Any]] = []
    support = min(cat.MAX_FEE, max(cat.units("100"), total * cat.SUPPORT_RATE_BP // 10000))
    rows.append(_row(Kind.FEE, 0, p.support, _cents(support)))
    for i, ri in enumerate(ctx.reservations):
        fee = ri.rate * hours
        unused_bp = int(rng.integers(200, 1200))
        upfront_this_month = ri.upfront * hours // 8760  # amortized over a 1-year term
        rows.append(
            _row(Kind.RI_FEE, ri.account, p.ri_fee[i], fee, qty=hours * QTY_SCALE, rate=ri.rate,
                 ri=i, ri_unused_upfront=upfront_this_month * unused_bp // 10000,
                 ri_unused_recurring=fee * unused_bp // 10000)
        )  # fmt: skip
    for i, ri in enumerate(ctx.reservations):
        if ri.upfront:
            fee = _upfront(ri.upfront, total)
            rows.append(_row(Kind.FEE, ri.account, p.ri_upfront[i], fee, ri=i))
    for i, sp in enumerate(ctx.savings_plans):
        if sp.upfront:
            fee = _upfront(sp.upfront, total)
            rows.append(_row(Kind.SP_UPFRONT_FEE, sp.account, p.sp_upfront[i], fee, sp=i))
    credit = min(cat.units("500"), total * 200 // 10000)
    rows.append(_row(Kind.CREDIT, 0, p.credit, -_cents(credit)))
    rows.append(_row(Kind.CREDIT, 1, p.credit, -cat.units("12.50")))
    for code, combo in p.edp.items():
        discount = min(cat.MAX_FEE, sums.of(code) * cat.EDP_RATE_BP // 10000)
        rows.append(_row(Kind.EDP_DISCOUNT, 0, combo, -_cents(discount)))
    rows.append(_row(Kind.REFUND, 1, p.refund, -cat.units("3.75")))
    for account in range(len(ctx.account_ids)):
        for code, combo in p.tax.items():
            tax = min(cat.MAX_FEE, sums.of(code, account) * cat.TAX_RATE_BP // 10000)
            rows.append(_row(Kind.TAX, account, combo, _cents(tax)))
    return _chunk(rows[:n], hours, ctx.resources.none)


def _upfront(price: int, usage: int) -> int:
    """An upfront fee in proportion to a small bill (the catalog's price fits 1M rows)."""
    return max(CENT, _cents(min(price, usage // 20)))


def _cents(value: int) -> int:
    return value // CENT * CENT


def _row(kind: Kind, account: int, combo: int, amount: int, **extra: int) -> dict[str, int]:
    row = {
        "kind": int(kind),
        "account": account,
        "combo": combo,
        "unblended": amount,
        "qty": QTY_SCALE,
        "rate": amount,
    }
    row.update(extra)
    return row


def _chunk(rows: list[dict[str, Any]], hours: int, no_resource: int) -> Chunk:
    n = len(rows)

    def column(name: str, default: int = 0) -> np.ndarray:
        return np.array([row.get(name, default) for row in rows], dtype=np.int64)

    return Chunk(
        kind=column("kind").astype(np.int8),
        account=column("account"),
        combo=column("combo"),
        resource=np.full(n, no_resource, dtype=np.int64),
        start=np.zeros(n, dtype=np.int64),
        end=np.full(n, hours, dtype=np.int64),
        qty=column("qty"),
        rate=column("rate"),
        unblended=column("unblended"),
        public=np.zeros(n, dtype=np.int64),
        sp=column("sp", -1),
        sp_effective=np.zeros(n, dtype=np.int64),
        sp_total=np.zeros(n, dtype=np.int64),
        sp_used=np.zeros(n, dtype=np.int64),
        ri=column("ri", -1),
        ri_effective=np.zeros(n, dtype=np.int64),
        ri_unused_upfront=column("ri_unused_upfront"),
        ri_unused_recurring=column("ri_unused_recurring"),
    )
