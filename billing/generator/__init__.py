"""Realistic, deterministic cloud bills for benchmarks, demo data and tests.

    from billing.generator import write_cur_legacy
    bill = write_cur_legacy("jan.csv.gz", rows=1000, period=date(2026, 1, 1),
                            payer_id="123456789012", seed=7)
    bill.expected[("2026-01-01", "123456789012")].billed_cost  # exact Decimal

Money is generated as integers of 1e-10 dollars and written as decimal text (or as
float64 or decimal128 in Parquet, as each format has it); rows are generated and written
in chunks, so memory stays flat for any row count. `python -m billing.generator --help`.
"""

from billing.generator.cur2 import write_cur2
from billing.generator.cur_legacy import write_cur_legacy
from billing.generator.focus import write_focus
from billing.generator.sink import GeneratedBill

__all__ = ["GeneratedBill", "write_cur2", "write_cur_legacy", "write_focus"]
