"""The reconciliation as text: a label and a figure per cost column, in columns that can be
told apart however long the labels and large the amounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from invoices.reconcile import COLUMN_LABELS, COLUMNS, Amounts

INDENT = "  "
GAP = "  "  # at least two spaces between columns, so a label's own spaces never read as one


def figure(value: Decimal) -> str:
    # Fixed point with every digit: a zero with many decimals would print as "0E-10".
    return f"{value:f}"


def figures(amounts: Amounts) -> list[str]:
    return [figure(value) for _, value in amounts.items()]


@dataclass(frozen=True)
class Widths:
    """How wide the label column and each figure column print."""

    label: int
    figures: tuple[int, ...]


def column_widths(rows: Iterable[tuple[str, Amounts]]) -> Widths:
    """Wide enough for every label, figure and column heading of `rows`."""
    label = 0
    widths = [len(COLUMN_LABELS[column]) for column in COLUMNS]
    for text, amounts in rows:
        label = max(label, len(text))
        widths = [
            max(width, len(shown)) for width, shown in zip(widths, figures(amounts), strict=True)
        ]
    return Widths(label, tuple(widths))


def table_line(label: str, shown: Sequence[str], widths: Widths) -> str:
    """The label left-aligned, never cut; each figure right-aligned in its column."""
    cells = "".join(
        GAP + text.rjust(width) for text, width in zip(shown, widths.figures, strict=True)
    )
    return f"{INDENT}{label.ljust(widths.label)}{cells}"


def heading_line(widths: Widths) -> str:
    return table_line("", [COLUMN_LABELS[column] for column in COLUMNS], widths)


def row_line(label: str, amounts: Amounts, widths: Widths | None = None) -> str:
    """One row; alone, it is as wide as it needs to be."""
    return table_line(label, figures(amounts), widths or column_widths([(label, amounts)]))
