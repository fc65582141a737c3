"""Byte sizes as people read them."""

from __future__ import annotations


def size_text(size: int) -> str:
    """1073741824 -> "1 GiB", 10485760 -> "10 MiB", 1536 -> "1.5 KiB"."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{size:,} bytes"
