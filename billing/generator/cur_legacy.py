"""Legacy AWS Cost and Usage Report (CUR 1): `lineItem/UnblendedCost` columns in CSV, or the
lower snake case names with float64 costs in Parquet, optionally in parts with a manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from billing.generator import catalog as cat
from billing.generator.columns import line_item_columns
from billing.generator.context import BillContext, build_context
from billing.generator.sink import (
    Column,
    Flavor,
    GeneratedBill,
    check_format,
    expected,
    part_paths,
    write_bill,
)
from billing.generator.values import Frame
from billing.ingest.contract import BillFormat

TAG_KEYS = ("user:team", "user:Team", "user:env", "user:cost-center", "aws:createdBy")
REPORT_PREFIX = "cur/acme"


def legacy_columns(*, parquet: bool) -> list[Column]:
    """CSV: AWS's `category/Name` headers. Parquet: their snake case, where the tag keys
    `user:team` and `user:Team` both become `resource_tags_user_team` (one column)."""
    columns = line_item_columns()
    columns.append(Column("costCategory/business-unit", "text", _business_unit))
    for key in TAG_KEYS:
        if parquet and key == "user:Team":
            continue
        get = _team_either_case if parquet and key == "user:team" else _tag(key)
        columns.append(Column(f"resourceTags/{key}", "text", get))
    if parquet:
        columns = [Column(cat.snake_case(c.name), c.kind, c.get) for c in columns]
    return columns


def _business_unit(f: Frame) -> pa.Array:
    return pa.array(cat.BUSINESS_UNITS).take(pa.array(f.chunk.account))


def _tag(key: str) -> Callable[[Frame], pa.Array]:
    return lambda f: f.resource(f.ctx.resources.tags[key])


def _team_either_case(f: Frame) -> pa.Array:
    tags = f.ctx.resources.tags
    return pc.coalesce(f.resource(tags["user:team"]), f.resource(tags["user:Team"]))


def write_cur_legacy(
    path: Path | str,
    *,
    rows: int,
    period: date,
    payer_id: str,
    seed: int = 0,
    until: date | None = None,
    accounts: Sequence[tuple[str, str]] | None = None,
    fmt: str = "csv.gz",
    parts: int = 1,
) -> GeneratedBill:
    """One month of a legacy CUR. With `parts` > 1, `path` names the report: the files are
    `<name>-00001.csv.gz`... beside it, and `<name>-Manifest.json` lists them. With `until`,
    the bill as delivered mid-month: usage before that day only, the monthly rows in full.
    `accounts`: see context.build_context."""
    check_format(fmt, ("csv", "csv.gz", "parquet"))
    if parts < 1:
        raise ValueError("parts must be at least 1")
    ctx = build_context(
        period=period, payer_id=payer_id, seed=seed, rows=rows, until=until, accounts=accounts
    )
    parquet = fmt == "parquet"
    columns = legacy_columns(parquet=parquet)
    flavor = Flavor(fmt, "double" if parquet else "scientific")
    paths, manifest = part_paths(Path(path), parts, fmt)
    sums = write_bill(
        paths,
        ctx=ctx,
        rows=rows,
        columns=columns,
        flavor=flavor,
        negations=True,
        billed=lambda chunk: chunk.unblended,
    )
    if manifest is not None:
        legacy_names = [c.name for c in legacy_columns(parquet=False)]
        if parquet:  # one column for both spellings of the team tag
            legacy_names.remove("resourceTags/user:Team")
        _write_manifest(manifest, ctx, paths, list(zip(legacy_names, columns, strict=True)), fmt)
    return GeneratedBill(
        paths=tuple(paths),
        bill_format=BillFormat.CUR_LEGACY,
        file_format=fmt,
        rows=rows,
        expected=expected(ctx, sums),
        manifest=manifest,
        columns=tuple(c.name for c in columns),
    )


def _write_manifest(
    manifest: Path,
    ctx: BillContext,
    paths: list[Path],
    columns: list[tuple[str, Column]],
    fmt: str,
) -> None:
    """Like AWS's `<report>-Manifest.json`; `reportKeys` are S3 keys whose last part is
    the file name next to the manifest."""
    report = manifest.name.removesuffix("-Manifest.json")
    span = f"{ctx.period:%Y%m%d}-{ctx.period_end:%Y%m%d}"
    assembly = hashlib.sha256(f"{ctx.seed}{ctx.payer_id}{span}".encode()).hexdigest()[:32]
    types = {"money": "OptionalBigDecimal", "qty": "OptionalBigDecimal", "time": "DateTime"}
    body = {
        "assemblyId": assembly,
        "account": ctx.payer_id,
        "columns": [
            {
                "category": name.split("/")[0],
                "name": name.split("/", 1)[1],
                "type": types.get(column.kind, "OptionalString"),
            }
            for name, column in columns
        ],
        "charset": "UTF-8",
        "compression": {"csv": None, "csv.gz": "GZIP", "parquet": "Parquet"}[fmt],
        "contentType": {"parquet": "Parquet"}.get(fmt, "text/csv"),
        "reportId": hashlib.sha256(report.encode()).hexdigest(),
        "reportName": report,
        "billingPeriod": {
            "start": f"{ctx.period:%Y%m%d}T000000.000Z",
            "end": f"{ctx.period_end:%Y%m%d}T000000.000Z",
        },
        "bucket": "acme-billing-reports",
        "reportKeys": [f"{REPORT_PREFIX}/{report}/{span}/{assembly}/{p.name}" for p in paths],
        "additionalArtifactKeys": [],
    }
    manifest.write_text(json.dumps(body, indent=2) + "\n")
