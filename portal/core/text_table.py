"""Plain-text tables for commands: columns as wide as their content, two spaces apart."""

from __future__ import annotations

from collections.abc import Sequence

GAP = "  "


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    """Lines of a table; the columns whose index is in `numeric` are right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        aligned = (
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return GAP.join(aligned).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
