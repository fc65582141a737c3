"""Gapless document numbers: one sequence per tenant, kind of document and year.

The sequence row is locked (`SELECT ... FOR UPDATE`) by the transaction that issues, and
the number is only kept if that transaction commits, so concurrent issues wait their turn
and never share or skip a number.
"""

from __future__ import annotations

from django.db import connection

from invoices.models import DocumentKind, NumberSequence, SellerProfile

TABLE = NumberSequence._meta.db_table


def next_number(*, kind: str, year: int, seller: SellerProfile) -> str:
    """Take the next number of `kind` in `year`; call inside the issuing transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (kind, year, last_number) VALUES (%s, %s, 0) "
            "ON CONFLICT (kind, year) DO NOTHING",
            [kind, year],
        )
        cursor.execute(
            f"UPDATE {TABLE} SET last_number = last_number + 1 "
            "WHERE kind = %s AND year = %s RETURNING last_number",
            [kind, year],
        )
        (number,) = cursor.fetchone()
    prefix = (
        seller.credit_note_prefix if kind == DocumentKind.CREDIT_NOTE else seller.invoice_prefix
    )
    return f"{prefix}-{year}-{number:06d}"
