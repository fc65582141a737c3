"""One chunk of a bill's rows as numpy columns, and exact integer money arithmetic.

Money is int64 in ten-billionths of a dollar (1e-10), quantities int64 in millionths.
A chunk holds CUR's line-item model; the writers only rename and format its columns.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from billing.generator.catalog import QTY_SCALE, Kind

_ID_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
USAGE_KINDS = (Kind.USAGE, Kind.SP_COVERED, Kind.DISCOUNTED)


@dataclass
class Chunk:
    kind: np.ndarray  # Kind codes
    account: np.ndarray  # index into the context's accounts
    combo: np.ndarray  # index into the context's products
    resource: np.ndarray  # index into the resource pool; `resources.none` for none
    start: np.ndarray  # charge period as hour offsets from the period start
    end: np.ndarray
    qty: np.ndarray  # millionths
    rate: np.ndarray  # money columns in units of 1e-10
    unblended: np.ndarray
    public: np.ndarray  # public on-demand cost (usage rows)
    sp: np.ndarray  # savings plan index or -1
    sp_effective: np.ndarray  # SavingsPlanCoveredUsage rows
    sp_total: np.ndarray  # SavingsPlanRecurringFee rows
    sp_used: np.ndarray
    ri: np.ndarray  # reservation index or -1
    ri_effective: np.ndarray  # DiscountedUsage rows
    ri_unused_upfront: np.ndarray  # RIFee rows
    ri_unused_recurring: np.ndarray

    @classmethod
    def empty(cls) -> Chunk:
        none = np.zeros(0, dtype=np.int64)
        return cls(**{f.name: none for f in fields(cls)})

    def __len__(self) -> int:
        return len(self.kind)

    def of(self, *kinds: Kind) -> np.ndarray:
        return np.isin(self.kind, np.array(kinds, dtype=self.kind.dtype))

    def take(self, index: np.ndarray) -> Chunk:
        return Chunk(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def effective(self) -> np.ndarray:
        """Amortized cost per row, by the table of docs/BILLING-DATA.md."""
        k = self.kind
        return np.select(
            [
                k == Kind.SP_COVERED,
                k == Kind.SP_RECURRING_FEE,
                (k == Kind.SP_NEGATION) | (k == Kind.SP_UPFRONT_FEE),
                k == Kind.DISCOUNTED,
                k == Kind.RI_FEE,
                (k == Kind.FEE) & (self.ri >= 0),
            ],
            [
                self.sp_effective,
                self.sp_total - self.sp_used,
                0,
                self.ri_effective,
                self.ri_unused_upfront + self.ri_unused_recurring,
                0,
            ],
            self.unblended,
        ).astype(np.int64)


def exact_sum(values: np.ndarray) -> int:
    """Sum of int64 values as a Python int, without overflow."""
    high, low = np.divmod(values.astype(np.int64), 1 << 32)
    return int(high.sum()) * (1 << 32) + int(low.sum())


def mul_money(qty: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """qty (millionths) x rate (units), rounded half up to units, exactly in int64."""
    whole, part = np.divmod(qty, QTY_SCALE)
    return whole * rate + (part * rate + QTY_SCALE // 2) // QTY_SCALE


def line_item_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """52-character base32 ids like identity/LineItemId."""
    data = _ID_ALPHABET[rng.integers(0, 32, size=n * 52, dtype=np.uint8)]
    offsets = np.arange(0, (n + 1) * 52, 52, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )
