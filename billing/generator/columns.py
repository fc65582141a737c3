"""The CUR line-item columns shared by legacy CUR and CUR 2.0, under their legacy names.

CUR 2.0 names are the legacy ones in snake case (`lineItem/UnblendedCost` ->
`line_item_unblended_cost`), which is how AWS derived them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.generator.catalog import Kind
from billing.generator.chunk import USAGE_KINDS
from billing.generator.sink import Column
from billing.generator.values import Frame

# Rows with a usage amount and a rate (tax, credits, refunds and discounts have neither).
METERED = (*USAGE_KINDS, Kind.SP_NEGATION, Kind.SP_RECURRING_FEE, Kind.SP_UPFRONT_FEE,
           Kind.RI_FEE, Kind.FEE)  # fmt: skip
ON_DEMAND_TERM = (Kind.USAGE, Kind.SP_COVERED, Kind.SP_NEGATION)


def _time_interval(f: Frame) -> pa.Array:
    return pc.binary_join_element_wise(f.time_text(f.chunk.start), f.time_text(f.chunk.end), "/")


def _public_rate(f: Frame) -> tuple[np.ndarray, np.ndarray]:
    valid = f.valid(*USAGE_KINDS)
    combo = np.minimum(f.chunk.combo, len(f.ctx.rates) - 1)
    return np.where(valid, f.ctx.rates[combo], 0), valid


def _term(f: Frame) -> pa.Array:
    reserved = (f.chunk.ri >= 0) & f.valid(Kind.DISCOUNTED, Kind.RI_FEE, Kind.FEE)
    index = np.where(f.valid(*ON_DEMAND_TERM), 0, np.where(reserved, 1, 2))
    return pa.array(["OnDemand", "Reserved", None], pa.string()).take(pa.array(index))


def _purchase_option(f: Frame) -> pa.Array:
    options = pa.array([r.purchase_option for r in f.ctx.reservations], pa.string())
    ri = f.chunk.ri
    return options.take(pa.array(ri, mask=ri < 0))


def _money(attribute: str, *kinds: Kind) -> Column:
    def get(f: Frame) -> tuple[np.ndarray, np.ndarray | None]:
        return getattr(f.chunk, attribute), (f.valid(*kinds) if kinds else None)

    return Column("", "money", get)


def _named(name: str, column: Column) -> Column:
    return Column(name, column.kind, column.get)


def line_item_columns() -> list[Column]:
    """The columns before the tags, in the order of an AWS report."""
    text = [
        ("identity/LineItemId", lambda f: f.line_item_ids()),
        ("identity/TimeInterval", _time_interval),
        ("bill/InvoiceId", lambda f: f.const(f.ctx.invoice_id())),
        ("bill/BillingEntity", lambda f: f.const("AWS")),
        ("bill/BillType", lambda f: f.const("Anniversary")),
        ("bill/PayerAccountId", lambda f: f.const(f.ctx.payer_id)),
    ]
    columns = [Column(name, "text", get) for name, get in text]
    columns += [
        Column("bill/BillingPeriodStartDate", "time", lambda f: np.zeros(f.n, dtype=np.int64)),
        Column("bill/BillingPeriodEndDate", "time", lambda f: np.full(f.n, f.ctx.hours)),
        Column("lineItem/UsageAccountId", "text", lambda f: f.account()),
        Column("lineItem/LineItemType", "text", lambda f: f.line_item_type()),
        Column("lineItem/UsageStartDate", "time", lambda f: f.chunk.start),
        Column("lineItem/UsageEndDate", "time", lambda f: f.chunk.end),
        Column("lineItem/ProductCode", "text", lambda f: f.product("product_code")),
        Column("lineItem/UsageType", "text", lambda f: f.product("usage_type")),
        Column("lineItem/Operation", "text", lambda f: f.product("operation")),
        Column("lineItem/AvailabilityZone", "text", lambda f: f.resource(f.ctx.resources.az)),
        Column("lineItem/ResourceId", "text", lambda f: f.resource(f.ctx.resources.resource_id)),
        Column("lineItem/UsageAmount", "qty", lambda f: (f.chunk.qty, f.valid(*METERED))),
        Column("lineItem/CurrencyCode", "text", lambda f: f.const("USD")),
        _named("lineItem/UnblendedRate", _money("rate", *METERED)),
        _named("lineItem/UnblendedCost", _money("unblended")),
        _named("lineItem/BlendedRate", _money("rate", *METERED)),
        _named("lineItem/BlendedCost", _money("unblended")),
        Column("lineItem/LineItemDescription", "text", lambda f: f.description()),
        Column("lineItem/LegalEntity", "text", lambda f: f.const("Amazon Web Services, Inc.")),
        Column("product/ProductName", "text", lambda f: f.product("product_name")),
        Column("product/region", "text", lambda f: f.product("region_code")),
        Column("product/location", "text", lambda f: f.product("region_name")),
        Column("product/instanceType", "text", lambda f: f.product("instance_type")),
        Column("product/servicecode", "text", lambda f: f.product("servicecode")),
        Column("product/productFamily", "text", lambda f: f.product("family")),
        Column("product/sku", "text", lambda f: f.product("sku")),
        _named("pricing/publicOnDemandCost", _money("public", *USAGE_KINDS)),
        Column("pricing/publicOnDemandRate", "money", _public_rate),
        Column("pricing/term", "text", _term),
        Column("pricing/unit", "text", lambda f: f.product("unit")),
        Column("pricing/purchaseOption", "text", _purchase_option),
        Column("reservation/ReservationARN", "text", lambda f: f.commitment_arn(False)),
        _named("reservation/EffectiveCost", _money("ri_effective", Kind.DISCOUNTED)),
        _named(
            "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
            _money("ri_unused_upfront", Kind.RI_FEE),
        ),
        _named("reservation/UnusedRecurringFee", _money("ri_unused_recurring", Kind.RI_FEE)),
        Column("savingsPlan/SavingsPlanARN", "text", lambda f: f.commitment_arn(True)),
        _named("savingsPlan/SavingsPlanEffectiveCost", _money("sp_effective", Kind.SP_COVERED)),
        _named("savingsPlan/TotalCommitmentToDate", _money("sp_total", Kind.SP_RECURRING_FEE)),
        _named("savingsPlan/UsedCommitment", _money("sp_used", Kind.SP_RECURRING_FEE)),
    ]
    return columns
