"""The usage rows of a bill, generated a chunk at a time with numpy (no per-row Python)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from billing.generator import catalog as cat
from billing.generator import fixed
from billing.generator.catalog import QTY_SCALE, Kind, Qty
from billing.generator.chunk import Chunk, mul_money
from billing.generator.context import BillContext

CHUNK_ROWS = 50_000
_ITEM_QTY = np.array([item.qty for item in cat.ITEMS])
_ITEM_DAILY = np.array([item.daily for item in cat.ITEMS])
_ITEM_LO = np.array([item.qty_range[0] for item in cat.ITEMS], dtype=float)
_ITEM_HI = np.array([item.qty_range[1] for item in cat.ITEMS], dtype=float)


def iter_chunks(
    ctx: BillContext, rows: int, *, negations: bool = True, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """All rows of the bill: the usage in chunks, then the monthly fee, tax and credit rows.

    Without `negations` (FOCUS), savings plan covered usage has no negation row.
    """
    n_fixed = min(fixed.capacity(ctx), rows // 4)
    bulk = rows - n_fixed
    sums = fixed.UsageSums(ctx)
    month = ctx.period.year * 12 + ctx.period.month
    for number, first in enumerate(range(0, bulk, chunk_rows)):
        rng = np.random.default_rng([ctx.seed, int(ctx.payer_id), month, 1, number])
        chunk = usage_chunk(ctx, rng, min(chunk_rows, bulk - first), negations=negations)
        sums.add(chunk.account, chunk.combo, chunk.unblended)
        yield chunk
    if n_fixed:
        rng = np.random.default_rng([ctx.seed, int(ctx.payer_id), month, 2])
        yield fixed.build(ctx, rng, sums, n_fixed)


def usage_chunk(ctx: BillContext, rng: np.random.Generator, n: int, *, negations: bool) -> Chunk:
    pool = ctx.resources
    res = rng.choice(pool.none, size=n, p=pool.weight)
    item, combo = pool.item[res], pool.combo[res]
    daily = _ITEM_DAILY[item]
    hour = rng.integers(0, ctx.usage_hours, size=n)
    start = np.where(daily, hour // 24 * 24, hour)
    qty = _quantities(rng, ctx, item, pool.size[res], daily)
    rate = ctx.rates[combo]
    cost = mul_money(qty, rate)
    u = rng.random(n)
    sp, ri = pool.sp[res], pool.ri[res]
    covered = (sp >= 0) & (u < cat.SP_COVERED_SHARE)
    discounted = (ri >= 0) & (u < cat.RI_COVERED_SHARE)
    kind = np.where(covered, Kind.SP_COVERED, np.where(discounted, Kind.DISCOUNTED, Kind.USAGE))
    sp_bp = np.array([p.discount_bp for p in ctx.savings_plans])
    ri_bp = np.array([r.discount_bp for r in ctx.reservations])
    zeros = np.zeros(n, dtype=np.int64)
    chunk = Chunk(
        kind=kind.astype(np.int8),
        account=pool.account[res],
        combo=combo,
        resource=res,
        start=start,
        end=start + np.where(daily, 24, 1),
        qty=qty,
        rate=np.where(discounted & ~covered, 0, rate),
        unblended=np.where(kind == Kind.DISCOUNTED, 0, cost),
        public=cost,
        sp=np.where(covered, sp, -1),
        sp_effective=np.where(covered, cost * (10000 - sp_bp[sp]) // 10000, 0),
        sp_total=zeros,
        sp_used=zeros,
        ri=np.where(kind == Kind.DISCOUNTED, ri, -1),
        ri_effective=np.where(kind == Kind.DISCOUNTED, cost * (10000 - ri_bp[ri]) // 10000, 0),
        ri_unused_upfront=zeros,
        ri_unused_recurring=zeros,
    )
    _add_savings_plan_fees(ctx, rng, chunk, hour)
    return _with_negations(chunk) if negations else chunk


def _quantities(
    rng: np.random.Generator,
    ctx: BillContext,
    item: np.ndarray,
    size: np.ndarray,
    daily: np.ndarray,
) -> np.ndarray:
    n, kind = len(item), _ITEM_QTY[item]
    lo, hi = np.log(_ITEM_LO[item]), np.log(_ITEM_HI[item])
    spread = np.exp(rng.uniform(lo, hi))  # quantities, not money: a float draw is fine
    partial = rng.random(n) < 0.05
    hours = np.where(partial, rng.integers(60, 3600, n) * QTY_SCALE // 3600, QTY_SCALE)
    storage = size * QTY_SCALE * np.where(daily, 24, 1) // ctx.hours
    return np.select(
        [kind == Qty.HOURS, kind == Qty.STORAGE, kind == Qty.COUNT],
        [hours, storage, np.maximum(np.rint(spread), 1).astype(np.int64) * QTY_SCALE],
        np.maximum((spread * QTY_SCALE).astype(np.int64), 1),
    ).astype(np.int64)


def _add_savings_plan_fees(
    ctx: BillContext, rng: np.random.Generator, chunk: Chunk, hour: np.ndarray
) -> None:
    """Turn a few rows into hourly savings plan fees (commitment and its use)."""
    fee = np.flatnonzero(rng.random(len(chunk)) < cat.SP_FEE_SHARE)
    plan = rng.integers(0, len(ctx.savings_plans), size=len(fee))
    commitment = np.array([p.rate for p in ctx.savings_plans], dtype=np.int64)[plan]
    used_bp = rng.integers(8000, 10001, size=len(fee))
    chunk.kind[fee] = Kind.SP_RECURRING_FEE
    chunk.account[fee] = np.array([p.account for p in ctx.savings_plans])[plan]
    chunk.combo[fee] = np.array(ctx.products.sp_fee)[plan]
    chunk.resource[fee] = ctx.resources.none
    chunk.start[fee], chunk.end[fee] = hour[fee], hour[fee] + 1
    chunk.qty[fee] = QTY_SCALE
    chunk.rate[fee] = chunk.unblended[fee] = chunk.sp_total[fee] = commitment
    chunk.sp_used[fee] = commitment * used_bp // 10000
    chunk.public[fee] = chunk.sp_effective[fee] = chunk.ri_effective[fee] = 0
    chunk.sp[fee], chunk.ri[fee] = plan, -1


def _with_negations(chunk: Chunk) -> Chunk:
    """Follow each covered row by its SavingsPlanNegation, keeping the row count."""
    n = len(chunk)
    covered = chunk.kind == Kind.SP_COVERED
    counts = np.where(covered, 2, 1)
    index = np.repeat(np.arange(n), counts)[:n]
    out = chunk.take(index)
    firsts = (np.cumsum(counts) - counts)[covered] + 1
    neg = firsts[firsts < n]
    out.kind[neg] = Kind.SP_NEGATION
    out.unblended[neg] = -out.unblended[neg]
    out.rate[neg] = -out.rate[neg]
    out.public[neg] = out.sp_effective[neg] = 0
    if n and out.kind[-1] == Kind.SP_COVERED:  # its negation fell off the end
        out.kind[-1], out.sp[-1], out.sp_effective[-1] = Kind.USAGE, -1, 0
    return out
