"""Writing a bill: columns to Arrow tables, tables to CSV, gzipped CSV or Parquet files,
split into parts, with the exact sums of what was written.
"""

from __future__ import annotations

import gzip
import io
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from billing.generator import catalog as cat
from billing.generator.chunk import Chunk, exact_sum
from billing.generator.context import BillContext
from billing.generator.rows import iter_chunks
from billing.generator.values import (
    Frame,
    money_decimal,
    money_double,
    money_text,
    qty_units,
)
from billing.ingest.contract import BillFormat, PeriodKey, Sums

FileFormat = Literal["csv", "csv.gz", "parquet"]
FILE_FORMATS: tuple[str, ...] = ("csv", "csv.gz", "parquet")
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Column:
    name: str
    kind: Literal["text", "money", "qty", "time", "map"]
    # text: Frame -> pa.Array; money/qty: Frame -> (int64 array, valid mask or None);
    # time: Frame -> hour offsets; map: (Frame, as_map) -> pa.Array
    get: Callable[..., Any]


@dataclass(frozen=True)
class Flavor:
    file: str
    money: Literal["text", "scientific", "double", "decimal"]
    tz: str | None = None  # of Parquet timestamps


@dataclass(frozen=True)
class GeneratedBill:
    """What a writer wrote, and the exact sums a reader of it must find."""

    paths: tuple[Path, ...]  # the data files, in order
    bill_format: BillFormat
    file_format: str  # "csv", "csv.gz" or "parquet"
    rows: int
    # (billing period start YYYY-MM-DD, payer) -> rows, BilledCost (unblended) and
    # EffectiveCost (amortized), as Decimal
    expected: dict[PeriodKey, Sums]
    manifest: Path | None = None  # legacy CUR in parts
    columns: tuple[str, ...] = field(default=())

    @property
    def path(self) -> Path:
        """What to hand to an ingest: the manifest of a split report, else the file."""
        return self.manifest or self.paths[0]


def to_arrow(column: Column, frame: Frame, flavor: Flavor) -> pa.Array:
    parquet = flavor.file == "parquet"
    if column.kind == "text":
        return column.get(frame)
    if column.kind == "map":
        return column.get(frame, parquet)
    if column.kind == "time":
        hours = column.get(frame)
        return frame.timestamps(hours, flavor.tz) if parquet else frame.time_text(hours)
    values, valid = column.get(frame)
    if column.kind == "qty":
        values = qty_units(values)
    if flavor.money == "double":  # quantities are no money: exact enough as they are
        return money_double(values, valid, check=column.kind == "money")
    if flavor.money == "decimal":
        return money_decimal(values, valid)
    scientific = flavor.money == "scientific" and column.kind == "money"
    return money_text(values, valid, scientific=scientific)


def part_paths(path: Path, parts: int, file_format: str) -> tuple[list[Path], Path | None]:
    """`x/report.csv.gz` in 3 parts: `x/report-00001.csv.gz`... and `x/report-Manifest.json`."""
    if parts == 1:
        return [path], None
    name = path.name
    for suffix in (f".{file_format}", ".snappy.parquet", ".gz", ".csv", ".parquet"):
        name = name.removesuffix(suffix)
    ext = "snappy.parquet" if file_format == "parquet" else file_format
    files = [path.with_name(f"{name}-{i:05d}.{ext}") for i in range(1, parts + 1)]
    return files, path.with_name(f"{name}-Manifest.json")


class _Compressor:
    """gzip in a thread: zlib releases the GIL, so compressing overlaps generating."""

    def __init__(self, raw: IO[bytes]) -> None:
        # mtime 0 and no file name: the same bytes every time
        self.gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
        )
        self.queue: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (data := self.queue.get()) is not None:
                self.gzip.write(data)
            self.gzip.close()
        except BaseException as exc:  # handed to the writing thread
            self.error = exc
            while self.queue.get() is not None:
                pass

    def write(self, data: bytes | memoryview) -> None:
        self._check()
        self.queue.put(data)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._check()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error


class _Output:
    """One data file; CSV gets an unquoted header like AWS's, strings quoted as needed."""

    def __init__(self, path: Path, flavor: Flavor, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.parquet: pq.ParquetWriter | None = None
        if flavor.file == "parquet":
            self.parquet = pq.ParquetWriter(str(path), schema, compression="snappy")
            return
        self.raw: IO[bytes] = path.open("wb")
        self.text: IO[bytes] | _Compressor = self.raw
        if flavor.file == "csv.gz":
            self.text = _Compressor(self.raw)
        self.text.write((",".join(schema.names) + "\n").encode())

    def write(self, table: pa.Table) -> None:
        if self.parquet is not None:
            self.parquet.write_table(table)
            return
        buffer = io.BytesIO()
        pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
        self.text.write(buffer.getbuffer())  # a fresh buffer per table: no copy needed

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
            return
        if self.text is not self.raw:
            self.text.close()
        self.raw.close()


def _split(rows: int, parts: int) -> list[int]:
    return [rows // parts + (1 if i < rows % parts else 0) for i in range(parts)]


def write_bill(
    paths: list[Path],
    *,
    ctx: BillContext,
    rows: int,
    columns: Iterable[Column],
    flavor: Flavor,
    negations: bool,
    billed: Callable[[Chunk], np.ndarray],
) -> Sums:
    """Generate `rows` rows into the files `paths` (split evenly); return their sums."""
    if rows < 0:
        raise ValueError("rows must not be negative")
    columns = tuple(columns)
    sums = Sums()
    sizes, outputs = _split(rows, len(paths)), []
    schema = _table(columns, Frame(ctx, Chunk.empty(), 0), flavor).schema
    try:
        outputs = [_Output(path, flavor, schema) for path in paths]
        part, room = 0, sizes[0]
        for number, chunk in enumerate(iter_chunks(ctx, rows, negations=negations)):
            table = _table(columns, Frame(ctx, chunk, number), flavor)
            sums.add(Sums(len(chunk), _dollars(billed(chunk)), _dollars(chunk.effective())))
            while table.num_rows:
                while room == 0:
                    part += 1
                    room = sizes[part]
                take = min(room, table.num_rows)
                outputs[part].write(table.slice(0, take))
                table, room = table.slice(take), room - take
    finally:
        for output in outputs:
            output.close()
    return sums


def _table(columns: tuple[Column, ...], frame: Frame, flavor: Flavor) -> pa.Table:
    done: dict[tuple[Callable[..., Any], str], pa.Array] = {}  # columns sharing a getter
    for c in columns:
        if (c.get, c.kind) not in done:
            done[(c.get, c.kind)] = to_arrow(c, frame, flavor)
    return pa.table({c.name: done[(c.get, c.kind)] for c in columns})


def _dollars(units: np.ndarray) -> Decimal:
    return Decimal(exact_sum(units)).scaleb(-cat.MONEY_DIGITS)


def expected(ctx: BillContext, sums: Sums) -> dict[PeriodKey, Sums]:
    return {(ctx.period_key, ctx.payer_id): sums}


def check_format(file_format: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if file_format not in allowed:
        raise ValueError(f"format must be one of {', '.join(allowed)}, not {file_format!r}")
