"""Reading an AWS Cost Optimization Hub export (.csv or .csv.gz) into rows, without a database.

Header names are compared lowercased with everything but letters and digits dropped, so the
API's camelCase (`recommendationId`), the console's title case ("Recommendation ID") and
the Data Exports table COST_OPTIMIZATION_RECOMMENDATIONS (`recommendation_id`) all match.
Where a value has several columns, the first one with a value in the row is read.

Columns read:

- recommendation id (required): recommendationId
- account (required): accountId; accountName (Data Exports) when present
- monthly saving (required): estimatedMonthlySavings, else
  estimated_monthly_savings_after_discount, else ..._before_discount
- monthly cost: estimatedMonthlyCost, else estimated_monthly_cost_after/before_discount
- saving percent: estimatedSavingsPercentage, else
  estimated_savings_percentage_after/before_discount
- currency: currencyCode (USD when empty)
- action: actionType (Rightsize, Stop, Delete, ScaleIn, Upgrade, MigrateToGraviton,
  PurchaseSavingsPlans, PurchaseReservedInstances)
- resource types: currentResourceType, recommendedResourceType (Ec2Instance, EbsVolume,
  RdsDbInstance, ComputeSavingsPlans, ...): they give the category
- current and suggested option: currentResourceSummary, recommendedResourceSummary (e.g.
  m5.2xlarge and m5.xlarge), else the resource types
- resource: resourceId, else resourceArn
- region: region
- tags: tags, as the API gives them ([{"key": "team", "value": "web"}]), as a JSON object
  ({"team": "web"}) or as text (team=web;env=prod)

Not read: implementationEffort, restartNeeded, rollbackPossible, source,
lastRefreshTimestamp, the lookback periods and the *_details JSON columns.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, cast

from portal.core.errors import ApplicationError
from portal.core.money import money_text

COLUMNS: dict[str, tuple[str, ...]] = {
    "recommendation_id": ("recommendationid",),
    "account_id": ("accountid",),
    "account_name": ("accountname",),
    "region": ("region", "resourceregion"),
    "resource_id": ("resourceid", "resourcearn"),
    "action": ("actiontype",),
    "current_type": ("currentresourcetype",),
    "recommended_type": ("recommendedresourcetype",),
    "current_summary": ("currentresourcesummary",),
    "recommended_summary": ("recommendedresourcesummary",),
    "saving": (
        "estimatedmonthlysavings",
        "estimatedmonthlysavingsafterdiscount",
        "estimatedmonthlysavingsbeforediscount",
    ),
    "cost": (
        "estimatedmonthlycost",
        "estimatedmonthlycostafterdiscount",
        "estimatedmonthlycostbeforediscount",
    ),
    "percent": (
        "estimatedsavingspercentage",
        "estimatedsavingspercentageafterdiscount",
        "estimatedsavingspercentagebeforediscount",
    ),
    "currency": ("currencycode", "currency"),
    "tags": ("tags", "resourcetags"),
}
REQUIRED = {
    "recommendation_id": "recommendationId",
    "account_id": "accountId",
    "saving": "estimatedMonthlySavings",
}
ACTIONS = {
    "Rightsize": "Rightsize",
    "Stop": "Stop",
    "Delete": "Delete",
    "ScaleIn": "Scale in",
    "Upgrade": "Upgrade",
    "MigrateToGraviton": "Migrate to Graviton",
    "PurchaseSavingsPlans": "Purchase Savings Plans",
    "PurchaseReservedInstances": "Purchase Reserved Instances",
}
CATEGORIES = {
    "ebsvolume": "storage",
    "rdsdbinstance": "database",
    "rdsdbinstancestorage": "database",
    "rdsreservedinstances": "database",
    "auroradbclusterstorage": "database",
    "elasticachereservedinstances": "database",
    "memorydbreservedinstances": "database",
    "dynamodbreservedcapacity": "database",
    "opensearchreservedinstances": "database",
    "redshiftreservedinstances": "database",
    "sagemakersavingsplans": "ai",
}
BLANKS = frozenset({"", "-", "n/a", "na", "null", "none"})
LIMITS = {"recommendation_id": 512, "account_id": 64, "region": 64, "resource_id": 2048}
LARGEST = Decimal("1e16")  # the stored amount keeps 16 digits before the point
PLACES = Decimal("0.0001")
GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class HubRow:
    """One recommendation of the export, checked."""

    line: int
    recommendation_id: str
    account_id: str
    account_name: str
    region: str
    resource_id: str
    action: str
    current_type: str
    recommended_type: str
    current: str
    suggested: str
    monthly_saving: Decimal
    monthly_cost: Decimal | None
    saving_percent: Decimal | None
    currency: str
    tags: dict[str, str] | None  # None: the export says nothing of the resource's tags

    @property
    def category(self) -> str:
        """compute, storage, database or ai, from the resource type (compute if unknown)."""
        for kind in (self.current_type, self.recommended_type):
            found = CATEGORIES.get(kind.lower())
            if found:
                return found
        return "compute"

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action or "Change")

    @property
    def reasoning(self) -> str:
        label = self.action_label
        if self.action.startswith("Purchase") and self.suggested != label:
            change = f"{label} ({self.suggested}) for {self.current}"
        elif self.suggested in (label, self.current):
            shown = self.resource_id if self.resource_id not in ("", self.current) else ""
            change = f"{label} {self.current}" + (f" ({shown})" if shown else "")
        else:
            change = f"{label} {self.current} to {self.suggested}"
        where = " ".join(part for part in (self.account_id, self.region) if part)
        saving = f"{money_text(self.monthly_saving, self.currency)} {self.currency}"
        if where:
            change += f" in {where}"
        text = f"Cost Optimization Hub: {change}, about {saving} a month"
        share = self._share()
        return f"{text} ({share})." if share else f"{text}."

    def _share(self) -> str:
        percent = self.saving_percent
        cost = self.monthly_cost
        if percent is None and cost:
            percent = self.monthly_saving / cost * 100
        if percent is None:
            return ""
        shown = f"{percent:.0f}%" if percent >= 1 or percent == 0 else f"{percent:.1f}%"
        if cost is None:
            return f"{shown} of its cost"
        return f"{shown} of {money_text(cost, self.currency)} {self.currency}"


@dataclass(frozen=True)
class Refusal:
    """A row that was not read: its line, the column at fault (as the file names it) and why."""

    line: int
    recommendation_id: str
    field: str
    message: str


@dataclass
class Export:
    rows: list[HubRow]
    refused: list[Refusal]
    lines: int  # data rows in the file


def normalised(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def read_export(stream: IO[bytes]) -> Export:
    """The rows of an export; ApplicationError when the file cannot be read as one."""
    reader = csv.reader(_text(stream))
    try:
        header = next(reader, None)
        if header is None:
            raise ApplicationError("The file is empty.", code="empty", field="file")
        columns = _columns(header)
        rows: list[HubRow] = []
        refused: list[Refusal] = []
        seen: dict[str, int] = {}
        count, line = 0, reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                count += 1
                _read_row(_Cells(line, cells, columns), seen, rows, refused)
            line = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError, gzip.BadGzipFile, EOFError, OSError) as exc:
        raise ApplicationError(
            f"The file is not a readable CSV export ({exc}).", code="unreadable", field="file"
        ) from exc
    return Export(rows=rows, refused=refused, lines=count)


def _text(stream: IO[bytes]) -> Iterator[str]:
    """The decoded lines of a plain or gzip-compressed file (told by its first bytes)."""
    if not stream.seekable():
        stream = io.BytesIO(stream.read())
    start = stream.tell()
    compressed = stream.read(2) == b"\x1f\x8b"
    stream.seek(start)
    raw: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=stream)) if compressed else stream
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for chunk in iter(lambda: raw.read(1 << 16), b""):
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        for text in lines:
            yield text + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _columns(header: list[str]) -> dict[str, list[tuple[int, str]]]:
    """For each value, the (index, header as written) of its columns, in preference order."""
    positions = {normalised(name): (i, name.strip()) for i, name in enumerate(header)}
    columns = {
        key: [positions[name] for name in names if name in positions]
        for key, names in COLUMNS.items()
    }
    missing = [shown for key, shown in REQUIRED.items() if not columns[key]]
    if missing:
        raise ApplicationError(
            f"The file has no column {' or '.join(missing)}: it does not look like a Cost "
            "Optimization Hub export (columns such as recommendationId, accountId, "
            "estimatedMonthlySavings, or their title-case or snake_case spellings).",
            code="missing_columns",
            field="file",
        )
    return columns


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class _Cells:
    line: int
    cells: list[str]
    columns: dict[str, list[tuple[int, str]]]

    def get(self, key: str) -> tuple[str, str]:
        """The first non-blank value of `key` and the column it came from."""
        for index, name in self.columns[key]:
            value = self.cells[index].strip() if index < len(self.cells) else ""
            if value.lower() not in BLANKS:
                return value, name
        return "", self.columns[key][0][1] if self.columns[key] else key

    def __getitem__(self, key: str) -> str:
        return self.get(key)[0]


def _read_row(
    cells: _Cells, seen: dict[str, int], rows: list[HubRow], refused: list[Refusal]
) -> None:
    try:
        rows.append(_row(cells, seen))
        seen[cells["recommendation_id"]] = cells.line
    except _Refused as exc:
        refused.append(Refusal(cells.line, cells["recommendation_id"], exc.field, exc.message))


def _row(cells: _Cells, seen: dict[str, int]) -> HubRow:
    recommendation_id, id_column = cells.get("recommendation_id")
    if not recommendation_id:
        raise _Refused(id_column, "no recommendation id")
    if recommendation_id in seen:
        raise _Refused(
            id_column, f"the same recommendation id is on line {seen[recommendation_id]}"
        )
    for key, limit in LIMITS.items():
        value, column = cells.get(key)
        if len(value) > limit:
            raise _Refused(column, f"longer than {limit} characters")
    saving = _amount(*cells.get("saving"))
    if saving is None:
        raise _Refused(cells.get("saving")[1], "no estimated monthly saving")
    currency, currency_column = cells.get("currency")
    currency = currency.upper() or "USD"
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise _Refused(currency_column, f"{currency!r} is not a currency code such as USD")
    resource_id = cells["resource_id"]
    return HubRow(
        line=cells.line,
        recommendation_id=recommendation_id,
        account_id=cells["account_id"],
        account_name=cells["account_name"][:200],
        region=cells["region"],
        resource_id=resource_id,
        action=cells["action"][:128],
        current_type=cells["current_type"],
        recommended_type=cells["recommended_type"],
        current=(cells["current_summary"] or cells["current_type"] or resource_id)[:512],
        suggested=_suggested(cells)[:512],
        monthly_saving=saving,
        monthly_cost=_amount(*cells.get("cost")),
        saving_percent=_amount(*cells.get("percent"), percent=True),
        currency=currency,
        tags=parse_tags(cells["tags"]) if cells.columns["tags"] else None,
    )


def _suggested(cells: _Cells) -> str:
    """The recommended option; for a change of no other kind (Delete, Stop), the action."""
    if cells["recommended_summary"]:
        return cells["recommended_summary"]
    if cells["recommended_type"] and cells["recommended_type"] != cells["current_type"]:
        return cells["recommended_type"]
    return ACTIONS.get(cells["action"], cells["action"]) or cells["recommended_type"]


def _amount(text: str, column: str, *, percent: bool = False) -> Decimal | None:
    """A non-negative finite amount, or None when the cell is empty."""
    if not text:
        return None
    cleaned = text.removesuffix("%").strip() if percent else text.lstrip("$").strip()
    if GROUPED.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise _Refused(column, f"{text!r} is not a number") from None
    if not amount.is_finite():
        raise _Refused(column, f"{text!r} is not a finite number")
    if amount < 0:
        raise _Refused(column, f"{text} is negative")
    if amount >= LARGEST:
        raise _Refused(column, f"{text} is too large")
    return amount.quantize(PLACES)


def parse_tags(text: str) -> dict[str, str] | None:
    """The resource's tags: {} when it has none, None when the cell cannot be read."""
    if not text:
        return {}
    if text[0] in "[{":
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return _tag_dict(parsed)
    pairs = [part.split("=", 1) for part in re.split(r"[;,]", text) if part.strip()]
    if not all(len(pair) == 2 for pair in pairs):
        return None
    return {key.strip(): value.strip() for key, value in pairs}


def _tag_dict(parsed: object) -> dict[str, str] | None:
    if isinstance(parsed, dict):
        return {str(k): str(v) for k, v in parsed.items() if v is not None}
    if not isinstance(parsed, list):
        return None
    tags: dict[str, str] = {}
    for item in parsed:
        if not isinstance(item, dict):
            return None
        lowered = {str(k).lower(): v for k, v in item.items()}
        if "key" not in lowered:
            return None
        tags[str(lowered["key"])] = "" if lowered.get("value") is None else str(lowered["value"])
    return tags
