"""Charges booked on each month's first day (support plans, commitment fees, monthly
subscriptions): a daily bill jumps on every 1st. A smoothing model would read such a jump
as a change of level and carry it into the following weeks, so the daily model is fitted
on the days with the 1sts at the level of the days around them, and the typical extra
charge of a 1st (the median of the last three) is added back on the 1sts ahead, with the
spread of those charges on its intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

# Days on each side of a 1st whose median is its ordinary level.
NEIGHBOURS = 7
# Recent 1sts whose extra charge says what the next ones will bring.
RECENT = 3
# A 1st counts as charged when its extra is above this share of the ordinary level.
MIN_SHARE = 0.25


@dataclass(frozen=True)
class MonthStarts:
    excess: float  # the extra charge expected on each 1st ahead
    spread: float  # how far the recent charges were from it, at most

    def on(self, day: date) -> float:
        return self.excess if day.day == 1 else 0.0


def month_starts(start: date, values: list[float]) -> tuple[list[float], MonthStarts | None]:
    """The values with each 1st's extra charge taken out, and that charge; the values as
    they are and None when the 1sts are not charged (or the history has none)."""
    firsts = [i for i in range(len(values)) if (start + timedelta(days=i)).day == 1]
    if not firsts:
        return values, None
    levels = {i: level for i in firsts if (level := _ordinary(values, i)) is not None}
    if not levels:
        return values, None
    extras = [values[i] - level for i, level in levels.items()]
    ordinary = median(levels.values())
    recent = extras[-RECENT:]
    if min(recent) <= MIN_SHARE * abs(ordinary) or min(recent) <= 0:
        return values, None
    adjusted = list(values)
    for i, level in levels.items():
        adjusted[i] = level
    excess = median(recent)
    spread = max(abs(extra - excess) for extra in recent)
    return adjusted, MonthStarts(excess=excess, spread=spread)


def _ordinary(values: list[float], index: int) -> float | None:
    """The median of the days around `index` (none: None)."""
    around = [
        values[i]
        for i in range(max(0, index - NEIGHBOURS), min(len(values), index + NEIGHBOURS + 1))
        if i != index
    ]
    return median(around) if around else None
