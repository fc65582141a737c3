"""The seller profile: the tenant as the issuer of its invoices, one per tenant."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection, transaction

from billing.services._common import model_errors_as_application_errors, refuse_unknown_fields
from invoices.models import SellerProfile
from portal.audit.services import audited_create, audited_update
from portal.core.errors import ApplicationError

SELLER_FIELDS = frozenset(
    {"legal_name", "address", "tax_id", "invoice_prefix", "credit_note_prefix", "payment_details"}
)
PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")


def _clean_prefix(value: Any, field: str) -> str:
    prefix = str(value or "").strip().upper()
    if not PREFIX.match(prefix):
        raise ApplicationError(
            f"A number prefix is 1 to 10 letters or digits (e.g. INV), not {value!r}.",
            code="invalid_prefix",
            field=field,
        )
    return prefix


@transaction.atomic
def seller_profile_update(*, actor: Any, **data: Any) -> SellerProfile:
    """Create or change the tenant's one seller profile; fields not given stay as they are."""
    refuse_unknown_fields(data, SELLER_FIELDS, "seller profile")
    # One profile per tenant: two first saves at once must not make two rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"{connection.schema_name}.invoices.seller_profile"],  # type: ignore[attr-defined]
        )
    current = SellerProfile.objects.order_by("pk").first()
    values = {name: (str(value or "").strip()) for name, value in data.items()}
    for name in ("invoice_prefix", "credit_note_prefix"):
        if name in values:
            values[name] = _clean_prefix(values[name], name)
    legal_name = values.get("legal_name", current.legal_name if current else "")
    if not legal_name:
        raise ApplicationError(
            "The seller's legal name is printed on every invoice; give one.",
            code="required",
            field="legal_name",
        )
    invoice_prefix = values.get("invoice_prefix", current.invoice_prefix if current else "INV")
    note_prefix = values.get("credit_note_prefix", current.credit_note_prefix if current else "CN")
    if invoice_prefix == note_prefix:
        raise ApplicationError(
            f"Invoices and credit notes need different number prefixes; both are "
            f"{invoice_prefix!r}.",
            code="same_prefixes",
            field="credit_note_prefix",
        )
    with model_errors_as_application_errors():
        if current is None:
            return audited_create(actor=actor, instance=SellerProfile(**values))
        return audited_update(actor=actor, instance=current, data=values)
