"""Which bill a file holds, told from its columns (never from its name), and where to read.

A `Layout` maps the logical fields a normalizer needs to the columns of one file. Column
names are matched case-insensitively; CUR fields are named once in the legacy CSV spelling
(`lineItem/UnblendedCost`) and also found under their snake_case spelling
(`line_item_unblended_cost`), which both legacy CUR Parquet and CUR 2.0 use.

A header that names a column twice, or two columns that these rules read as one field
(`BilledCost` and `billedcost`, `lineItem/UnblendedCost` and `line_item_unblended_cost`),
is refused: which copy holds the values is anyone's guess. Tag columns that differ in case
are different tags, as in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from billing.ingest.contract import BillFileError, BillFormat

CUR_FIELDS: dict[str, str] = {
    "payer": "bill/PayerAccountId",
    "payer_name": "bill/PayerAccountName",
    "period_start": "bill/BillingPeriodStartDate",
    "period_end": "bill/BillingPeriodEndDate",
    "account": "lineItem/UsageAccountId",
    "account_name": "lineItem/UsageAccountName",
    "usage_start": "lineItem/UsageStartDate",
    "usage_end": "lineItem/UsageEndDate",
    "line_item_type": "lineItem/LineItemType",
    "product_code": "lineItem/ProductCode",
    "product_name": "product/ProductName",
    "region": "product/regionCode",
    "region_legacy": "product/region",
    "availability_zone": "lineItem/AvailabilityZone",
    "resource_id": "lineItem/ResourceId",
    "sku": "product/sku",
    "usage_type": "lineItem/UsageType",
    "operation": "lineItem/Operation",
    "instance_type": "product/instanceType",
    "purchase_option": "pricing/PurchaseOption",
    "usage_amount": "lineItem/UsageAmount",
    "unit": "pricing/unit",
    "currency": "lineItem/CurrencyCode",
    "unblended_cost": "lineItem/UnblendedCost",
    "public_cost": "pricing/publicOnDemandCost",
    "sp_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "sp_total_commitment": "savingsPlan/TotalCommitmentToDate",
    "sp_used_commitment": "savingsPlan/UsedCommitment",
    "sp_arn": "savingsPlan/SavingsPlanARN",
    "ri_effective_cost": "reservation/EffectiveCost",
    "ri_unused_upfront": "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "ri_unused_recurring": "reservation/UnusedRecurringFee",
    "ri_arn": "reservation/ReservationARN",
    # CUR 2.0 only: map columns (JSON text in CSV).
    "product_map": "product",
    "tags_map": "resource_tags",
    # What identifies a line item within its billing period and payer (a line item that
    # spans hours or days repeats its id once per time interval).
    "line_item_id": "identity/LineItemId",
    "time_interval": "identity/TimeInterval",
}
CUR_REQUIRED = (
    "payer",
    "period_start",
    "period_end",
    "usage_start",
    "usage_end",
    "line_item_type",
    "unblended_cost",
    "currency",
)
CUR_SP_FIELDS = ("sp_effective_cost", "sp_total_commitment", "sp_used_commitment")
CUR_RI_FIELDS = ("ri_effective_cost", "ri_unused_upfront", "ri_unused_recurring")

# Store column -> FOCUS column. Mandatory FOCUS columns the store needs come first.
FOCUS_REQUIRED: dict[str, str] = {
    "billing_period_start": "BillingPeriodStart",
    "billing_period_end": "BillingPeriodEnd",
    "billing_account_id": "BillingAccountId",
    "charge_period_start": "ChargePeriodStart",
    "charge_period_end": "ChargePeriodEnd",
    "charge_category": "ChargeCategory",
    "billing_currency": "BillingCurrency",
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
    "contracted_cost": "ContractedCost",
}
FOCUS_OPTIONAL: dict[str, str] = {
    "billing_account_name": "BillingAccountName",
    "sub_account_id": "SubAccountId",
    "sub_account_name": "SubAccountName",
    "provider_name": "ProviderName",
    "service_provider_name": "ServiceProviderName",  # FOCUS 1.3
    "service_name": "ServiceName",
    "service_category": "ServiceCategory",
    "region_id": "RegionId",
    "availability_zone": "AvailabilityZone",
    "resource_id": "ResourceId",
    "sku_id": "SkuId",
    "charge_class": "ChargeClass",
    "charge_frequency": "ChargeFrequency",
    "consumed_quantity": "ConsumedQuantity",
    "consumed_unit": "ConsumedUnit",
    "pricing_quantity": "PricingQuantity",
    "pricing_unit": "PricingUnit",
    "commitment_discount_id": "CommitmentDiscountId",
    "commitment_discount_type": "CommitmentDiscountType",
    "tags": "Tags",
    "x_line_item_type": "x_LineItemType",
    "x_usage_type": "x_UsageType",
    "x_operation": "x_Operation",
    "x_instance_type": "x_InstanceType",
    "x_purchase_option": "x_PurchaseOption",
}
_FOCUS_1_0_OTHERS = (
    "ChargeDescription",
    "CommitmentDiscountCategory",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "ContractedUnitPrice",
    "InvoiceIssuerName",
    "ListUnitPrice",
    "PricingCategory",
    "PublisherName",
    "RegionName",
    "ResourceName",
    "ResourceType",
    "SkuPriceId",
)
_FOCUS_1_1 = (
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
)
_FOCUS_1_2 = (
    "BillingAccountType",
    "SubAccountType",
    "InvoiceId",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
)
_FOCUS_1_3 = (
    "ServiceProviderName",
    "HostProviderName",
    "AllocatedMethodId",
    "AllocatedMethodDetails",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
    "ContractApplied",
)
FOCUS_COLUMNS = frozenset(
    [*FOCUS_REQUIRED.values(), *FOCUS_OPTIONAL.values(), *_FOCUS_1_0_OTHERS, *_FOCUS_1_1]
).union(_FOCUS_1_2, _FOCUS_1_3)


@dataclass
class Layout:
    """Where one file keeps the fields a normalizer reads."""

    format: BillFormat
    version: str
    fields: dict[str, str]  # logical field -> column name as written in the file
    tag_columns: list[str] = field(default_factory=list)  # legacy CUR: one column per tag
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The file columns to read, each once, in a stable order."""
        return list(dict.fromkeys([*self.fields.values(), *self.tag_columns]))


def snake(name: str) -> str:
    """`savingsPlan/SavingsPlanARN` -> `savings_plan_savings_plan_a_r_n` (Athena's spelling)."""
    out = re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)
    out = re.sub(r"[/:\s-]+", "_", out)
    return re.sub(r"_+", "_", out).strip("_")


# Quantities, not money (lower case, every spelling): they may be far larger than amounts.
QUANTITY_COLUMNS = frozenset(
    spelling
    for name in (
        CUR_FIELDS["usage_amount"],
        FOCUS_OPTIONAL["consumed_quantity"],
        FOCUS_OPTIONAL["pricing_quantity"],
    )
    for spelling in (name.lower(), snake(name))
)


def detect(header: list[str], file: str) -> Layout:
    """Tell the format from the header (its column names in order, "" for a column without
    a name); raise `BillFileError` if it is not a bill we read or names a column twice."""
    positions = _positions(header, file)
    columns = list(positions)
    lower = {name.lower(): name for name in reversed(columns)}
    if any(name.startswith(("lineitem/", "bill/")) for name in lower):
        return _cur_layout(positions, file, BillFormat.CUR_LEGACY, slashed=True)
    if any(name.startswith(("line_item_", "bill_")) for name in lower):
        is_cur2 = "bill_payer_account_name" in lower or "resource_tags" in lower
        fmt = BillFormat.CUR_2 if is_cur2 else BillFormat.CUR_LEGACY
        return _cur_layout(positions, file, fmt, slashed=False)
    focus_lower = {name.lower() for name in FOCUS_REQUIRED.values()}
    if len(focus_lower & lower.keys()) >= 3:
        return _focus_layout(positions, file)
    shown = ", ".join(columns[:5]) + (", ..." if len(columns) > 5 else "")
    raise BillFileError(
        file,
        "not a bill: the header has none of the columns of an AWS CUR (legacy or 2.0) or "
        f"FOCUS file (it starts with: {shown or 'nothing'})",
        row=1,
    )


def _positions(header: list[str], file: str) -> dict[str, int]:
    """Each named column's position (1 for the first); a name given twice is refused."""
    found: dict[str, list[int]] = {}
    for position, name in enumerate(header, start=1):
        if name:
            found.setdefault(name, []).append(position)
    repeated = [f"{name} ({_listed(where)})" for name, where in found.items() if len(where) > 1]
    if repeated:
        raise BillFileError(
            file,
            f"the header names a column more than once: {'; '.join(repeated)}. Keep one "
            "copy of each column and load the file again",
            row=1,
        )
    return {name: where[0] for name, where in found.items()}


def _listed(positions: list[int]) -> str:
    shown = [str(p) for p in positions]
    return f"columns {', '.join(shown[:-1])} and {shown[-1]}"


def _field_column(positions: dict[str, int], spellings: tuple[str, ...], file: str) -> str | None:
    """The one column spelled as one of `spellings` (lower case), if any; two are refused."""
    found = [name for name in positions if name.lower() in spellings]
    if len(found) > 1:
        shown = " and ".join(f"{name} (column {positions[name]})" for name in found)
        raise BillFileError(
            file,
            f"the header has the same column under two spellings: {shown}. Keep one and "
            "load the file again",
            row=1,
        )
    return found[0] if found else None


def _cur_layout(positions: dict[str, int], file: str, fmt: BillFormat, *, slashed: bool) -> Layout:
    columns = list(positions)
    fields: dict[str, str] = {}
    for key, legacy_name in CUR_FIELDS.items():
        spellings = tuple(dict.fromkeys((legacy_name.lower(), snake(legacy_name))))
        found = _field_column(positions, spellings, file)
        if found is not None:
            fields[key] = found
    if "region" not in fields and "region_legacy" in fields:
        fields["region"] = fields["region_legacy"]
    fields.pop("region_legacy", None)
    missing = [CUR_FIELDS[key] for key in CUR_REQUIRED if key not in fields]
    if missing:
        names = missing if slashed else [snake(name) for name in missing]
        raise BillFileError(
            file, f"AWS CUR file without required columns: {', '.join(names)}", row=1
        )
    prefixes = ("resourcetags/", "resource_tags_")
    tag_columns = [name for name in dict.fromkeys(columns) if name.lower().startswith(prefixes)]
    version = "2.0" if fmt is BillFormat.CUR_2 else "legacy"
    layout = Layout(fmt, version, fields, tag_columns)
    _cur_notes(layout)
    return layout


def _cur_notes(layout: Layout) -> None:
    fields, notes = layout.fields, layout.notes
    has_sp = all(key in fields for key in CUR_SP_FIELDS)
    has_ri = all(key in fields for key in CUR_RI_FIELDS)
    if not has_sp and not has_ri:
        notes.append("no amortization columns: EffectiveCost = BilledCost")
    elif not has_sp:
        notes.append("no savingsPlan columns: EffectiveCost = BilledCost for Savings Plan lines")
    elif not has_ri:
        notes.append("no reservation columns: EffectiveCost = BilledCost for reservation lines")
    if "public_cost" not in fields:
        notes.append("no pricing/publicOnDemandCost column: ListCost = BilledCost")
    notes.append("ContractedCost = BilledCost (a CUR has no contracted cost)")


# FOCUS costs a file may lack: each is then BilledCost (see billing.ingest.normalize.focus).
FOCUS_DERIVED_COSTS = ("effective_cost", "list_cost", "contracted_cost")


def _focus_layout(positions: dict[str, int], file: str) -> Layout:
    lower = {name.lower(): name for name in positions}
    absent = [store for store, name in FOCUS_REQUIRED.items() if name.lower() not in lower]
    missing = [FOCUS_REQUIRED[store] for store in absent if store not in FOCUS_DERIVED_COSTS]
    if missing:
        raise BillFileError(
            file, f"FOCUS file without required columns: {', '.join(missing)}", row=1
        )
    fields = {}
    for store, name in {**FOCUS_REQUIRED, **FOCUS_OPTIONAL}.items():
        found = _field_column(positions, (name.lower(),), file)
        if found is not None:
            fields[store] = found
    known = {name.lower() for name in FOCUS_COLUMNS}
    unknown = [
        original
        for name, original in lower.items()
        if name not in known and not name.startswith("x_")
    ]
    layout = Layout(BillFormat.FOCUS, _focus_version(lower), fields)
    for store in absent:
        layout.notes.append(f"no {FOCUS_REQUIRED[store]} column: derived from BilledCost")
    if unknown:
        layout.notes.append(
            f"not FOCUS columns, ignored: {', '.join(sorted(unknown, key=str.lower))}"
        )
    return layout


def _focus_version(lower: dict[str, str]) -> str:
    for version, names in (("1.3", _FOCUS_1_3), ("1.2", _FOCUS_1_2), ("1.1", _FOCUS_1_1)):
        if any(name.lower() in lower for name in names):
            return version
    return "1.0"
