"""FOCUS 1.0 to 1.3 rows (any provider) -> store rows.

FOCUS says nulls are null, so the literal `NULL` and empty strings are reported wherever
they are read as null. Values of the listed columns that differ from an allowed value only
in case are read as that value and reported; an unknown ChargeCategory rejects its row,
other unknown values are kept and reported. A Usage row whose EffectiveCost is 0 while its
BilledCost is not is kept and reported as a remark. `ProviderName` falls back to 1.3's
`ServiceProviderName`. A row is rejected only when its BilledCost, dates, billing account,
currency or ChargeCategory cannot be read: a null or unreadable EffectiveCost, ListCost or
ContractedCost is derived from BilledCost as the spec does for rows without unit prices
(see `_derive_costs`), and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.contract import NormalizedBatch
from billing.ingest.formats import FOCUS_DERIVED_COSTS, Layout
from billing.ingest.normalize.batch import Columns, SumInputs, finish
from billing.ingest.normalize.common import (
    Distinct,
    IssueLog,
    as_array,
    clean_text,
    mask_of,
    required,
    valid_mask,
)
from billing.ingest.normalize.decimals import Decimals, parse_decimals
from billing.ingest.normalize.secondary import fill_missing, parse_secondary
from billing.ingest.normalize.services import SERVICE_CATEGORIES
from billing.ingest.normalize.tags import TagNormalizer
from billing.ingest.normalize.times import (
    Period,
    parse_timestamps,
    period_columns,
    timestamp_cache,
)

_NUMBERS = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "consumed_quantity",
    "pricing_quantity",
)
_TIMES = ("billing_period_start", "billing_period_end", "charge_period_start", "charge_period_end")
# column -> (allowed values, an unknown value rejects the row)
_ENUMS: dict[str, tuple[tuple[str, ...], bool]] = {
    "charge_category": (("Usage", "Purchase", "Tax", "Credit", "Adjustment"), True),
    "charge_class": (("Correction",), False),
    "charge_frequency": (("One-Time", "Recurring", "Usage-Based"), False),
    "service_category": (SERVICE_CATEGORIES, False),
}
_REQUIRED_TEXT = ("billing_account_id", "charge_category", "billing_currency")


def _enum_reader(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, int]]:
    by_lower = {value.lower(): value for value in allowed}

    def read(value: str) -> tuple[str, int]:
        """(value to store, 0 as is / 1 case fixed / 2 unknown)."""
        if value in allowed:
            return value, 0
        fixed = by_lower.get(value.strip().lower())
        return (fixed, 1) if fixed else (value, 2)

    return read


class FocusNormalizer:
    """Normalizes the batches of one FOCUS file."""

    def __init__(self, layout: Layout, file: str, tag_aliases: Mapping[str, str] | None) -> None:
        self.fields = layout.fields
        self.file = file
        self.times = timestamp_cache()
        self.tags = TagNormalizer(tag_aliases, prefixes=("user:",))
        self.enums = {key: _enum_reader(allowed) for key, (allowed, _) in _ENUMS.items()}

    def __call__(self, table: pa.Table, first_line: int) -> NormalizedBatch:
        log = IssueLog(self.file, first_line, table.num_rows)
        raw = {key: as_array(table[name]) for key, name in self.fields.items()}
        out: Columns = {
            key: clean_text(values, self.fields[key], log, report_empty=True)
            for key, values in raw.items()
            if not pa.types.is_map(values.type)
        }
        for key in _REQUIRED_TEXT:
            required(out[key], self.fields[key], log, raw[key])
        numbers = self._numbers(out, raw, log)
        for key in _ENUMS:
            if out.get(key) is not None:
                out[key] = self._enum(key, out[key], log)
        out["billing_currency"] = self._currency(out["billing_currency"], log)
        providers = [out[key] for key in ("service_provider_name", "provider_name") if key in out]
        out["provider_name"] = pc.coalesce(*providers) if providers else None
        self._zero_effective(out, numbers, log)
        self._derive_costs(out, numbers, log)
        for key, parsed in numbers.items():
            out[key] = parsed.text
        period = self._period(out, raw, log)
        if "tags" in raw:
            tags = out.get("tags", raw["tags"])
            out["tags"] = self.tags.from_map(tags, self.fields["tags"], log)
        sums = SumInputs(
            period.start.date,
            out["billing_account_id"],
            numbers["billed_cost"],
            numbers["effective_cost"],
        )
        return finish(out, log, sums, table.num_rows)

    def _numbers(self, out: Columns, raw: Columns, log: IssueLog) -> dict[str, Decimals]:
        """The cost and quantity columns; only an unreadable BilledCost rejects a row."""
        numbers = {}
        for key in _NUMBERS:
            if key in out:
                parse = parse_decimals if key == "billed_cost" else parse_secondary
                numbers[key] = parse(out[key], self.fields[key], log)
            elif key in FOCUS_DERIVED_COSTS:  # the file lacks the column (a note says so)
                numbers[key] = parse_secondary(pa.nulls(log.n, pa.string()), key, log)
        billed = numbers["billed_cost"]
        required(billed.text, self.fields["billed_cost"], log, raw["billed_cost"], billed.invalid)
        return numbers

    def _derive_costs(self, out: Columns, numbers: dict[str, Decimals], log: IssueLog) -> None:
        """Null EffectiveCost, ListCost and ContractedCost as FOCUS defines them for a row
        without unit prices: BilledCost, except that a commitment purchase (which covers
        future charges) has an EffectiveCost of 0."""
        every = np.ones(log.n, dtype=bool)
        billed = numbers["billed_cost"]
        purchase = mask_of(pc.equal(out["charge_category"], "Purchase"))
        commitment = out.get("commitment_discount_id")
        if commitment is not None:
            purchase &= valid_mask(commitment)
        else:
            purchase[:] = False
        zero = Decimals(pa.repeat(pa.scalar("0"), log.n), pa.repeat(pa.scalar(0.0), log.n), ~every)
        for key, fallback, where, said in (
            ("effective_cost", zero, purchase, "0, as for a commitment purchase"),
            ("effective_cost", billed, every, "BilledCost"),
            ("list_cost", billed, every, "BilledCost, as for a charge without a list price"),
            (
                "contracted_cost",
                billed,
                every,
                "BilledCost, as for a charge without a negotiated price",
            ),
        ):
            name = self.fields.get(key)
            # A column the file lacks is noted once for the file, not for every row.
            told = log if name else IssueLog(log.file, log.first_line, log.n)
            message = f"{name} is missing: read as {said}"
            numbers[key] = fill_missing(numbers[key], fallback, where, name or key, told, message)

    def _enum(self, key: str, values: pa.Array, log: IssueLog) -> pa.Array:
        name = self.fields[key]
        distinct = Distinct(values)
        found = [self.enums[key](value) for value in distinct.values]
        fixed = distinct.strings([value for value, _ in found])
        status = distinct.rows([code for _, code in found], 0, np.int8)
        log.interpret(
            name,
            status == 1,
            values,
            lambda _value, i: f"{name} is read as '{fixed[i].as_py()}'",
        )
        unknown = status == 2
        if _ENUMS[key][1]:
            log.reject(name, unknown, values, f"{name} is not one of the FOCUS values")
        else:
            log.interpret(name, unknown, values, f"{name} is not one of the FOCUS values; kept")
        return fixed

    def _currency(self, values: pa.Array, log: IssueLog) -> pa.Array:
        name = self.fields["billing_currency"]
        upper = pc.utf8_upper(pc.utf8_trim_whitespace(values))
        valid = mask_of(pc.match_substring_regex(upper, r"^[A-Z]{3}$"))
        fixed = valid & mask_of(pc.not_equal(upper, values))
        log.interpret(name, fixed, values, lambda _v, i: f"{name} is read as '{upper[i]}'")
        present = mask_of(values.is_valid())
        log.reject(name, present & ~valid, values, f"{name} is not an ISO 4217 currency code")
        return upper

    def _zero_effective(self, out: Columns, numbers: dict[str, Decimals], log: IssueLog) -> None:
        effective, billed = numbers["effective_cost"].floats, numbers["billed_cost"].floats
        remark = (
            mask_of(pc.equal(out["charge_category"], "Usage"))
            & mask_of(pc.equal(effective, 0.0))
            & mask_of(pc.not_equal(billed, 0.0))
        )
        name = self.fields.get("effective_cost", "EffectiveCost")
        message = f"{name} is 0 on a Usage row whose BilledCost is not; kept"
        log.interpret(name, remark, numbers["effective_cost"].text, message)

    def _period(self, out: Columns, raw: Columns, log: IssueLog) -> Period:
        stamps = []
        for key in _TIMES:
            values = out[key]
            required(values, self.fields[key], log, raw[key])
            stamps.append(parse_timestamps(values, self.fields[key], log, self.times))
        names = tuple(self.fields[key] for key in _TIMES)
        return period_columns(stamps, names, log, out)
