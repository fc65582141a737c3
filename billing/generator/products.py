"""The price list of one bill: one "combo" per (catalog item, region), then the special
products of fee, tax, credit and discount rows; and a description per (combo, kind).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from billing.generator import catalog as cat
from billing.generator.catalog import Kind

if TYPE_CHECKING:
    from billing.generator.context import Commitment

N_KINDS = len(cat.LINE_ITEM_TYPES)
MAP_TYPE = pa.map_(pa.string(), pa.string())
FIELDS = (
    "product_code",
    "servicecode",
    "product_name",
    "service_category",
    "usage_type",
    "operation",
    "family",
    "instance_type",
    "unit",
    "region_code",
    "region_name",
    "sku",
)
SUPPORT = ("AWSSupportBusiness", "AWS Support (Business)", "Other")
SP_PRODUCT = ("ComputeSavingsPlans", "Savings Plans for AWS Compute usage", "Compute")


@dataclass
class Products:
    rows: list[dict[str, str | None]] = field(default_factory=list)
    descriptions: list[list[str]] = field(default_factory=list)  # per combo, per kind
    rates: list[int] = field(default_factory=list)  # catalog combos only
    sp_fee: list[int] = field(default_factory=list)  # per savings plan
    sp_upfront: list[int] = field(default_factory=list)
    ri_fee: list[int] = field(default_factory=list)  # per reservation
    ri_upfront: list[int] = field(default_factory=list)
    tax: dict[str, int] = field(default_factory=dict)  # product code -> combo
    edp: dict[str, int] = field(default_factory=dict)
    support: int = -1
    credit: int = -1
    refund: int = -1

    def add(self, row: dict[str, str | None], describe: dict[Kind, str]) -> int:
        self.rows.append(row)
        fallback = next(iter(describe.values()))
        self.descriptions.append([describe.get(Kind(k), fallback) for k in range(N_KINDS)])
        return len(self.rows) - 1

    def text(self, name: str) -> pa.Array:
        return pa.array([row[name] for row in self.rows], pa.string())

    def description_table(self) -> pa.Array:
        return pa.array([d for per_combo in self.descriptions for d in per_combo], pa.string())

    def product_maps(self) -> tuple[pa.Array, pa.Array]:
        """CUR 2.0 `product` map per combo: JSON text and map<string,string>."""
        maps = [
            {k: v for k, v in (("product_name", r["product_name"]), ("region", r["region_code"]),
                               ("servicename", r["product_name"])) if v}
            for r in self.rows
        ]  # fmt: skip
        text = [json.dumps(m, separators=(",", ":")) for m in maps]
        return pa.array(text), pa.array([list(m.items()) for m in maps], MAP_TYPE)

    def product_index(self) -> np.ndarray:
        """Per combo, the index of its product code in `product_codes()`."""
        codes = self.product_codes()
        return np.array([codes.index(str(r["product_code"])) for r in self.rows], dtype=np.int64)

    def product_codes(self) -> list[str]:
        return sorted({str(r["product_code"]) for r in self.rows})


def sku(*parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return "".join("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 32] for b in digest[:16])


def dollars(value: int) -> str:
    return f"{Decimal(value).scaleb(-cat.MONEY_DIGITS).normalize():f}"


def build_products(
    payer_id: str, savings_plans: Sequence[Commitment], reservations: Sequence[Commitment]
) -> Products:
    p = Products()
    for item in cat.ITEMS:
        for region in cat.REGIONS:
            rate = int((Decimal(item.price) * Decimal(region.price_factor)).scaleb(10))
            usage_type = region.prefix + item.usage_type
            code = sku(item.product_code, usage_type, item.operation)
            usage = item.description.format(price=dollars(rate), region=region.name)
            p.add(
                _row(item.product_code, item.product_name, item.service_category, usage_type,
                     item.operation, item.family, item.instance_type, item.unit, region, code),
                {
                    Kind.USAGE: usage,
                    Kind.SP_NEGATION: f"SavingsPlanNegation used by AccountId : {payer_id} "
                    f"and UsageSku : {code}",
                    Kind.DISCOUNTED: f"USD 0.0 per {usage_type} (Reserved Instance applied)",
                },
            )  # fmt: skip
            p.rates.append(rate)
    _add_commitments(p, savings_plans, reservations)
    for code in sorted({item.product_code for item in cat.ITEMS}):
        name = next(i.product_name for i in cat.ITEMS if i.product_code == code)
        category = next(i.service_category for i in cat.ITEMS if i.product_code == code)
        row = _row(code, name, category, "", "", "", "", "", None, sku(code, "tax"))
        p.tax[code] = p.add(row, {Kind.TAX: f"Tax for product code {code}"})
        if code in ("AmazonEC2", "AmazonS3"):
            edp = _row(code, name, category, "", "", "", "", "", None, sku(code, "edp"))
            p.edp[code] = p.add(edp, {Kind.EDP_DISCOUNT: "Enterprise Discount Program"})
    code, name, category = SUPPORT
    p.support = p.add(
        _row(code, name, category, "Dollar", "", "AWS Support", "", "Dollar", None, sku(code)),
        {Kind.FEE: "Business support: 10% of monthly usage, at least $100"},
    )
    ec2 = next(i for i in cat.ITEMS if i.product_code == "AmazonEC2")
    s3 = next(i for i in cat.ITEMS if i.product_code == "AmazonS3")
    p.credit = p.add(
        _row(ec2.product_code, ec2.product_name, "Compute", "", "", "", "", "", None, "CREDIT"),
        {Kind.CREDIT: "AWS Activate Credits"},
    )
    p.refund = p.add(
        _row(s3.product_code, s3.product_name, "Storage", "", "", "", "", "", None, "REFUND"),
        {Kind.REFUND: "Refund for S3 service credit (SLA)"},
    )
    return p


def _add_commitments(
    p: Products, savings_plans: Sequence[Commitment], reservations: Sequence[Commitment]
) -> None:
    code, name, category = SP_PRODUCT
    for (sp_type, _rate, _bp, option, _up), sp in zip(
        cat.SAVINGS_PLANS, savings_plans, strict=True
    ):
        term = "ComputeSP" if sp_type.startswith("Compute") else "EC2SP"
        kind = f"1 year {option} {sp_type}"
        plan = option.replace(" ", "")
        fee = _row(code, name, category, f"{term}:1yr{plan}", "", "Savings Plan", "", "Hrs",
                   None, sku(sp.arn, "fee"))  # fmt: skip
        p.sp_fee.append(p.add(fee, {Kind.SP_RECURRING_FEE: f"{kind} hourly commitment"}))
        upfront = dict(fee, unit="Quantity", sku=sku(sp.arn, "upfront"))
        p.sp_upfront.append(p.add(upfront, {Kind.SP_UPFRONT_FEE: f"{kind} upfront fee"}))
    for (instance_type, region_code, _fee, _bp, option, _up), ri in zip(
        cat.RESERVATIONS, reservations, strict=True
    ):
        item = cat.ITEMS[ri.item]
        region = cat.REGIONS[ri.region]
        usage_type = region.prefix + "HeavyUsage:" + instance_type
        row = _row(
            item.product_code,
            item.product_name,
            item.service_category,
            usage_type,
            item.operation,
            item.family,
            instance_type,
            "Hrs",
            region,
            sku(ri.arn),
        )
        about = f"{option} {instance_type} reservation in {region_code}"
        p.ri_fee.append(p.add(row, {Kind.RI_FEE: f"Hourly fee of the {about}"}))
        p.ri_upfront.append(
            p.add(dict(row, unit="Quantity"), {Kind.FEE: f"Sign up charge for the {about}"})
        )


def _row(
    product_code: str,
    product_name: str,
    category: str,
    usage_type: str,
    operation: str,
    family: str,
    instance_type: str,
    unit: str,
    region: cat.Region | None,
    sku_id: str,
) -> dict[str, str | None]:
    return {
        "product_code": product_code,
        "servicecode": product_code,
        "product_name": product_name,
        "service_category": category,
        "usage_type": usage_type or None,
        "operation": operation or None,
        "family": family or None,
        "instance_type": instance_type or None,
        "unit": unit or None,
        "region_code": region.code if region else None,
        "region_name": region.name if region else None,
        "sku": sku_id,
    }
