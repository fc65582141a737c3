"""AWS CUR (legacy CSV, legacy Parquet, 2.0) rows -> store rows.

BilledCost = UnblendedCost; EffectiveCost = amortized (see `amortize`); ListCost =
pricing/publicOnDemandCost (0 for SavingsPlanNegation and discount lines that have none,
else BilledCost; BilledCost for every row when the column is absent); ContractedCost =
BilledCost, as a CUR has no contracted cost. ServiceName = product/ProductName, else
lineItem/ProductCode; ServiceCategory from the product code where known. In a CUR an empty
field is simply absent, so empty strings become null without being reported; other
spellings of null (`None`, `NULL`, ...) are reported. Only an unreadable UnblendedCost,
date, payer, currency or line item type rejects a row: other numbers that cannot be read
are read as null (reported), and ListCost and EffectiveCost fall back to BilledCost.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.contract import NormalizedBatch
from billing.ingest.duplicates import identify_line_items
from billing.ingest.formats import CUR_RI_FIELDS, CUR_SP_FIELDS, Layout
from billing.ingest.normalize import amortize
from billing.ingest.normalize.batch import Columns, SumInputs, finish
from billing.ingest.normalize.common import (
    Distinct,
    IssueLog,
    as_array,
    clean_text,
    required,
    valid_mask,
)
from billing.ingest.normalize.decimals import Decimals, parse_decimals
from billing.ingest.normalize.secondary import parse_secondary
from billing.ingest.normalize.services import service_category
from billing.ingest.normalize.tags import TagNormalizer
from billing.ingest.normalize.times import (
    Period,
    parse_timestamps,
    period_columns,
    timestamp_cache,
)

_NUMBERS = (
    "unblended_cost",
    "public_cost",
    "usage_amount",
    *CUR_SP_FIELDS,
    *CUR_RI_FIELDS,
)
_TEXT = {
    "payer": "billing_account_id",
    "payer_name": "billing_account_name",
    "account": "sub_account_id",
    "account_name": "sub_account_name",
    "region": "region_id",
    "availability_zone": "availability_zone",
    "resource_id": "resource_id",
    "sku": "sku_id",
    "currency": "billing_currency",
    "unit": "consumed_unit",
    "line_item_type": "x_line_item_type",
    "usage_type": "x_usage_type",
    "operation": "x_operation",
    "instance_type": "x_instance_type",
    "purchase_option": "x_purchase_option",
}


class CurNormalizer:
    """Normalizes the batches of one CUR file."""

    def __init__(self, layout: Layout, file: str, tag_aliases: Mapping[str, str] | None) -> None:
        self.layout, self.file = layout, file
        self.fields = layout.fields
        self.times = timestamp_cache()
        self.tags = TagNormalizer(tag_aliases, prefixes=("user:", "user_"))

    def __call__(self, table: pa.Table, first_line: int) -> NormalizedBatch:
        n = table.num_rows
        log = IssueLog(self.file, first_line, n)
        text = {
            key: clean_text(table[self.fields[key]], self.fields[key], log, report_empty=False)
            for key in [*_TEXT, "product_code", "product_name", "sp_arn", "ri_arn"]
            if key in self.fields
        }
        out = {store: text[key] for key, store in _TEXT.items() if key in text}
        for key in ("payer", "currency", "line_item_type"):
            required(text[key], self.fields[key], log)
        numbers = self._numbers(table, log)
        unblended = numbers["unblended_cost"]
        required(unblended.text, self.fields["unblended_cost"], log, already=unblended.invalid)
        code = self._classify(text["line_item_type"], out, log)
        effective = self._effective(code, numbers, text, log)
        out.update(
            billed_cost=unblended.text,
            effective_cost=effective.text,
            list_cost=self._list_cost(code, numbers),
            contracted_cost=unblended.text,
            provider_name=pa.repeat(pa.scalar("AWS", pa.string()), n),
            consumed_quantity=numbers["usage_amount"].text if "usage_amount" in numbers else None,
            pricing_quantity=numbers["usage_amount"].text if "usage_amount" in numbers else None,
            pricing_unit=out.get("consumed_unit"),
        )
        self._service(table, text, out)
        self._commitment(text, out)
        period = self._period(table, log, out)
        out["tags"] = self._tags(table, log, n)
        batch = finish(
            out, log, SumInputs(period.start.date, text["payer"], unblended, effective), n
        )
        batch.line_items = identify_line_items(
            table, self.fields, log, period_start=period.start.date, payer=text["payer"]
        )
        return batch

    def _numbers(self, table: pa.Table, log: IssueLog) -> dict[str, Decimals]:
        numbers = {}
        for key in _NUMBERS:
            if key in self.fields:
                name = self.fields[key]
                values = clean_text(table[name], name, log, report_empty=False)
                parse = parse_decimals if key == "unblended_cost" else parse_secondary
                numbers[key] = parse(values, name, log)
        return numbers

    def _classify(self, line_item_type: pa.Array, out: Columns, log: IssueLog) -> np.ndarray:
        distinct = Distinct(line_item_type)
        found = [amortize.classify(value) for value in distinct.values]
        code = distinct.rows([kind[0] for kind in found], -1, np.int8)
        name = self.fields["line_item_type"]
        unknown = code == amortize.UNKNOWN
        log.reject(name, unknown, line_item_type, f"{name} is not a known line item type")
        out["charge_category"] = distinct.strings([kind[1] for kind in found])
        out["charge_frequency"] = distinct.strings([kind[2] for kind in found])
        return code

    def _effective(
        self, code: np.ndarray, numbers: dict[str, Decimals], text: Columns, log: IssueLog
    ) -> Decimals:
        amortizer = amortize.Amortizer(code, numbers["unblended_cost"], numbers, self.fields, log)
        if all(key in numbers for key in CUR_SP_FIELDS):
            amortizer.savings_plans()
        if all(key in numbers for key in CUR_RI_FIELDS):
            amortizer.reservations(text.get("ri_arn"))
        return parse_decimals(amortizer.cost, "EffectiveCost", log)

    def _list_cost(self, code: np.ndarray, numbers: dict[str, Decimals]) -> pa.Array:
        billed = numbers["unblended_cost"].text
        public = numbers.get("public_cost")
        if public is None:
            return billed
        no_list = (code == amortize.SP_NEGATION) | (code == amortize.DISCOUNT)
        fallback = pc.if_else(pa.array(no_list), "0", billed)
        return pc.coalesce(public.text, fallback)

    def _service(self, table: pa.Table, text: Columns, out: Columns) -> None:
        product_code = text.get("product_code")
        name = text.get("product_name")
        if name is None and "product_map" in self.fields:
            name = product_name(table[self.fields["product_map"]])
        candidates = [array for array in (name, product_code) if array is not None]
        if candidates:
            out["service_name"] = pc.coalesce(*candidates)
        if product_code is not None:
            out["service_category"] = service_category(product_code)

    @staticmethod
    def _commitment(text: Columns, out: Columns) -> None:
        sp_arn, ri_arn = text.get("sp_arn"), text.get("ri_arn")
        arns = [array for array in (sp_arn, ri_arn) if array is not None]
        if not arns:
            return
        out["commitment_discount_id"] = pc.coalesce(*arns)
        kind = pa.nulls(len(arns[0]), pa.string())
        if ri_arn is not None:
            kind = pc.if_else(pa.array(valid_mask(ri_arn)), "Reservation", kind)
        if sp_arn is not None:
            kind = pc.if_else(pa.array(valid_mask(sp_arn)), "Savings Plan", kind)
        out["commitment_discount_type"] = kind

    def _period(self, table: pa.Table, log: IssueLog, out: Columns) -> Period:
        stamps = []
        keys = ("period_start", "period_end", "usage_start", "usage_end")
        for key in keys:
            name = self.fields[key]
            values = clean_text(table[name], name, log, report_empty=False)
            required(values, name, log)
            stamps.append(parse_timestamps(values, name, log, self.times))
        names = tuple(self.fields[key] for key in keys)
        return period_columns(stamps, names, log, out)

    def _tags(self, table: pa.Table, log: IssueLog, n: int) -> pa.Array | None:
        if "tags_map" in self.fields:
            name = self.fields["tags_map"]
            values = as_array(table[name])
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                values = clean_text(values, name, log, report_empty=False)
            return self.tags.from_map(values, name, log)
        columns = []
        for name in self.layout.tag_columns:
            raw = name.split("/", 1)[1] if "/" in name else name[len("resource_tags_") :]
            values = clean_text(table[name], name, log, report_empty=False)
            columns.append((name, raw, values))
        return self.tags.from_columns(columns, n, log) if columns else None


def product_name(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`product_name` from CUR 2.0's product map (a map in Parquet, JSON text in CSV)."""
    values = as_array(values)
    if isinstance(values, pa.MapArray):
        return pc.map_lookup(values, "product_name", "first").cast(pa.string())
    encoded = pc.dictionary_encode(values)
    pattern = r'"product_name"\s*:\s*"(?P<name>(?:[^"\\]|\\.)*)"'
    found = pc.extract_regex(encoded.dictionary, pattern).flatten()[0]  # null where no match
    found = pc.replace_substring(pc.replace_substring(found, '\\"', '"'), "\\\\", "\\")
    return found.take(encoded.indices)
