"""Sharing an amount among targets exactly, by weights: pure Decimal, no database.

`share` floors each part to the cent, hands the leftover cents to the parts with the
largest remainders, and gives what is left below a cent (amounts can have more than two
decimals) to the part with the largest remainder, so the parts always sum to the amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

CENT = Decimal("0.01")
# Rounding down keeps a floored share exact: the quotient is never above the true one.
EXACT = Context(prec=80, rounding=ROUND_FLOOR)


def share(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` in parts proportional to `weights` (whose sum is not zero)."""
    with localcontext(EXACT):
        total = sum(weights, Decimal(0))
        if not weights or total == 0:
            raise ValueError("weights must not sum to zero")
        exact = [amount * weight / total for weight in weights]
        parts = [value.quantize(CENT, rounding=ROUND_FLOOR) for value in exact]
        remainders = [value - part for value, part in zip(exact, parts, strict=True)]
        # Largest remainder first; of equal ones, the earlier target.
        order = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
        leftover = amount - sum(parts, Decimal(0))
        cents = int((leftover / CENT).to_integral_value(rounding=ROUND_FLOOR))
        for i in order[:cents]:
            parts[i] += CENT
        parts[order[0]] += amount - sum(parts, Decimal(0))
    return parts


def even_weights(count: int) -> list[Decimal]:
    return [Decimal(1)] * count
