"""python -m billing.generator {cur|cur2|focus} --rows N --period 2026-01 --payer 123456789012
--format csv.gz --out PATH [--seed S] [--until 2026-01-08] [--parts N] [--version 1.2] [--json]

Writes one month of a generated bill and prints what it wrote and the exact sums a reader
must find in it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime

from billing.generator.cur2 import write_cur2
from billing.generator.cur_legacy import write_cur_legacy
from billing.generator.focus import VERSIONS, write_focus
from billing.generator.sink import FILE_FORMATS, GeneratedBill


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month like 2026-01: {text!r}") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day like 2026-01-08: {text!r}") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m billing.generator", description="Write a generated cloud bill."
    )
    parser.add_argument("kind", choices=["cur", "cur2", "focus"], help="legacy CUR, CUR 2.0, FOCUS")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--period", type=_month, required=True, help="month, e.g. 2026-01")
    parser.add_argument("--payer", required=True, help="12-digit payer account id")
    parser.add_argument("--format", dest="fmt", choices=FILE_FORMATS, default="csv.gz")
    parser.add_argument("--out", required=True, help="file to write (the report name with --parts)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--until", type=_day, default=None, help="a bill delivered mid-month: usage before this day"
    )
    parser.add_argument("--parts", type=int, default=1, help="legacy CUR only: files + manifest")
    parser.add_argument("--version", choices=VERSIONS, default="1.2", help="FOCUS only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.parts != 1 and args.kind != "cur":
        parser.error("--parts is for legacy CUR (cur) only")
    return args


def generate(args: argparse.Namespace) -> GeneratedBill:
    common = {
        "rows": args.rows,
        "period": args.period,
        "payer_id": args.payer,
        "seed": args.seed,
        "until": args.until,
    }
    if args.kind == "cur":
        return write_cur_legacy(args.out, fmt=args.fmt, parts=args.parts, **common)
    if args.kind == "cur2":
        return write_cur2(args.out, fmt=args.fmt, **common)
    return write_focus(args.out, fmt=args.fmt, version=args.version, **common)


def report(bill: GeneratedBill, seconds: float, as_json: bool) -> str:
    sums = [
        {
            "billing_period_start": period,
            "payer": payer,
            "rows": s.rows,
            "billed_cost": str(s.billed_cost),
            "effective_cost": str(s.effective_cost),
        }
        for (period, payer), s in bill.expected.items()
    ]
    if as_json:
        return json.dumps(
            {
                "format": str(bill.bill_format),
                "file_format": bill.file_format,
                "rows": bill.rows,
                "path": str(bill.path),
                "files": [str(p) for p in bill.paths],
                "manifest": str(bill.manifest) if bill.manifest else None,
                "seconds": round(seconds, 2),
                "expected": sums,
            }
        )
    lines = [f"wrote {bill.rows:,} rows of {bill.bill_format} ({bill.file_format}) in "
             f"{seconds:.1f} s:"]  # fmt: skip
    lines += [f"  {p}" for p in bill.paths]
    if bill.manifest:
        lines.append(f"  {bill.manifest} (manifest)")
    lines += [
        f"expected for {s['billing_period_start']}, payer {s['payer']}: {s['rows']:,} rows, "
        f"billed (unblended) {s['billed_cost']}, effective (amortized) {s['effective_cost']}"
        for s in sums
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        bill = generate(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(bill, time.perf_counter() - started, args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
