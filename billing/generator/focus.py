"""FOCUS (FinOps Open Cost and Usage Specification) as AWS exports it ("FOCUS 1.2 with AWS
columns"): spec columns plus `x_` extensions. No SavingsPlanNegation rows: covered usage
has BilledCost 0 and the commitment is billed by its fee rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.generator import catalog as cat
from billing.generator.catalog import Kind
from billing.generator.chunk import USAGE_KINDS, Chunk
from billing.generator.columns import METERED
from billing.generator.context import build_context
from billing.generator.sink import Column, Flavor, GeneratedBill, check_format, expected, write_bill
from billing.generator.values import Frame
from billing.ingest.contract import BillFormat

VERSIONS = ("1.0", "1.1", "1.2", "1.3")
_BY_KIND: dict[str, dict[Kind, str | None]] = {
    "category": {
        Kind.USAGE: "Usage", Kind.SP_COVERED: "Usage", Kind.DISCOUNTED: "Usage",
        Kind.SP_RECURRING_FEE: "Purchase", Kind.SP_UPFRONT_FEE: "Purchase",
        Kind.RI_FEE: "Purchase", Kind.FEE: "Purchase", Kind.TAX: "Tax",
        Kind.CREDIT: "Credit", Kind.EDP_DISCOUNT: "Credit", Kind.REFUND: "Adjustment",
    },
    "frequency": {
        Kind.USAGE: "Usage-Based", Kind.SP_COVERED: "Usage-Based",
        Kind.DISCOUNTED: "Usage-Based", Kind.SP_RECURRING_FEE: "Recurring",
        Kind.SP_UPFRONT_FEE: "One-Time", Kind.RI_FEE: "Recurring", Kind.FEE: "Recurring",
        Kind.TAX: "Recurring", Kind.CREDIT: "One-Time", Kind.EDP_DISCOUNT: "One-Time",
        Kind.REFUND: "One-Time",
    },
    "class": {Kind.REFUND: "Correction"},
    "status": {Kind.SP_COVERED: "Used", Kind.DISCOUNTED: "Used"},
}  # fmt: skip


def _by_kind(table: str, f: Frame) -> pa.Array:
    values = [_BY_KIND[table].get(Kind(k)) for k in range(len(cat.LINE_ITEM_TYPES))]
    return pa.array(values, pa.string()).take(pa.array(f.chunk.kind))


def _frequency(f: Frame) -> pa.Array:
    """An RI's upfront fee is a one-time fee; support is monthly."""
    one_time = (f.chunk.kind == Kind.FEE) & (f.chunk.ri >= 0)
    return pc.if_else(pa.array(one_time), "One-Time", _by_kind("frequency", f))


def billed(chunk: Chunk) -> np.ndarray:
    return np.where(chunk.kind == Kind.SP_COVERED, 0, chunk.unblended)


def _list_cost(f: Frame) -> tuple[np.ndarray, None]:
    return np.where(f.valid(*USAGE_KINDS), f.chunk.public, billed(f.chunk)), None


def _unit_price(f: Frame) -> tuple[np.ndarray, np.ndarray]:
    valid = f.valid(*USAGE_KINDS)
    combo = np.minimum(f.chunk.combo, len(f.ctx.rates) - 1)
    return np.where(valid, f.ctx.rates[combo], 0), valid


def _commitment(f: Frame, what: str) -> pa.Array:
    sp, ri = f.chunk.sp >= 0, f.chunk.ri >= 0
    if what == "id":
        return pc.coalesce(f.commitment_arn(True), f.commitment_arn(False))
    names = {"type": ("Savings Plan", "Reserved Instance"), "category": ("Spend", "Usage")}
    index = pa.array(np.where(sp, 0, 1), mask=~(sp | ri))
    return pa.array(names[what], pa.string()).take(index)


def _with_unit(f: Frame, kinds: tuple[Kind, ...]) -> pa.Array:
    return pc.if_else(pa.array(f.valid(*kinds)), f.product("unit"), None)


def focus_columns(version: str = "1.2") -> list[Column]:
    if version not in VERSIONS:
        raise ValueError(f"FOCUS version must be one of {', '.join(VERSIONS)}")
    zero = np.zeros
    text: list[tuple[str, Callable[[Frame], Any]]] = [
        ("AvailabilityZone", lambda f: f.resource(f.ctx.resources.az)),
        ("BillingAccountId", lambda f: f.const(f.ctx.payer_id)),
        ("BillingAccountName", lambda f: f.const(cat.PAYER_NAME)),
        ("BillingCurrency", lambda f: f.const("USD")),
        ("ChargeCategory", lambda f: _by_kind("category", f)),
        ("ChargeClass", lambda f: _by_kind("class", f)),
        ("ChargeDescription", lambda f: f.description()),
        ("ChargeFrequency", _frequency),
        ("CommitmentDiscountCategory", lambda f: _commitment(f, "category")),
        ("CommitmentDiscountId", lambda f: _commitment(f, "id")),
        ("CommitmentDiscountStatus", lambda f: _by_kind("status", f)),
        ("CommitmentDiscountType", lambda f: _commitment(f, "type")),
        ("ConsumedUnit", lambda f: _with_unit(f, USAGE_KINDS)),
        ("InvoiceIssuerName", lambda f: f.const("Amazon Web Services, Inc.")),
        ("PricingUnit", lambda f: _with_unit(f, METERED)),
        ("ProviderName", lambda f: f.const("AWS")),
        ("PublisherName", lambda f: f.const("AWS")),
        ("RegionId", lambda f: f.product("region_code")),
        ("RegionName", lambda f: f.product("region_name")),
        ("ResourceId", lambda f: f.resource(f.ctx.resources.resource_id)),
        ("ServiceCategory", lambda f: f.product("service_category")),
        ("ServiceName", lambda f: f.product("product_name")),
        ("SkuId", lambda f: f.product("sku")),
        ("SubAccountId", lambda f: f.account()),
        ("SubAccountName", lambda f: f.account(names=True)),
        ("x_Operation", lambda f: f.product("operation")),
        ("x_ServiceCode", lambda f: f.product("servicecode")),
        ("x_UsageType", lambda f: f.product("usage_type")),
    ]
    if version >= "1.2":
        text.append(("InvoiceId", lambda f: f.const(f.ctx.invoice_id())))
    if version >= "1.3":
        text += [("ServiceProviderName", lambda f: f.const("AWS")),
                 ("HostProviderName", lambda f: f.const("AWS"))]  # fmt: skip
    columns = [Column(name, "text", get) for name, get in text]
    columns += [
        Column("BilledCost", "money", lambda f: (billed(f.chunk), None)),
        Column("EffectiveCost", "money", lambda f: (f.chunk.effective(), None)),
        Column("ListCost", "money", _list_cost),
        Column("ContractedCost", "money", _list_cost),
        Column("ListUnitPrice", "money", _unit_price),
        Column("ContractedUnitPrice", "money", _unit_price),
        Column("ConsumedQuantity", "qty", lambda f: (f.chunk.qty, f.valid(*USAGE_KINDS))),
        Column("PricingQuantity", "qty", lambda f: (f.chunk.qty, f.valid(*METERED))),
        Column("BillingPeriodStart", "time", lambda f: zero(f.n, dtype=np.int64)),
        Column("BillingPeriodEnd", "time", lambda f: np.full(f.n, f.ctx.hours)),
        Column("ChargePeriodStart", "time", lambda f: f.chunk.start),
        Column("ChargePeriodEnd", "time", lambda f: f.chunk.end),
        Column("Tags", "map", lambda f, as_map: f.resource(
            f.ctx.resources.focus_tags_map if as_map else f.ctx.resources.focus_tags_json)),
        Column("x_CostCategories", "map", lambda f, as_map: f.cost_category(as_map)),
    ]  # fmt: skip
    return sorted(columns, key=lambda c: (c.name.startswith("x_"), c.name))


def write_focus(
    path: Path | str,
    *,
    rows: int,
    period: date,
    payer_id: str,
    seed: int = 0,
    until: date | None = None,
    accounts: Sequence[tuple[str, str]] | None = None,
    fmt: str = "csv",
    version: str = "1.2",
) -> GeneratedBill:
    """One month as FOCUS: CSV money as plain decimal text; Parquet money as
    decimal128(38, 10), timestamps as timestamp[ms, UTC] and Tags as a map. With `until`,
    the bill as delivered mid-month: usage before that day only, the monthly rows in full.
    `accounts`: see context.build_context."""
    check_format(fmt, ("csv", "csv.gz", "parquet"))
    ctx = build_context(
        period=period, payer_id=payer_id, seed=seed, rows=rows, until=until, accounts=accounts
    )
    columns = focus_columns(version)
    parquet = fmt == "parquet"
    flavor = Flavor(fmt, "decimal" if parquet else "text", tz="UTC")
    path = Path(path)
    sums = write_bill(
        [path], ctx=ctx, rows=rows, columns=columns, flavor=flavor, negations=False, billed=billed
    )
    return GeneratedBill(
        paths=(path,),
        bill_format=BillFormat.FOCUS,
        file_format=fmt,
        rows=rows,
        expected=expected(ctx, sums),
        columns=tuple(c.name for c in columns),
    )
