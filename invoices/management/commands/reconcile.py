from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from invoices.reconcile import (
    COLUMN_LABELS,
    COLUMNS,
    Amounts,
    CategoryReconciliation,
    Reconciliation,
    reconcile,
)
from invoices.serializers import money
from portal.tenants.models import Tenant

WIDTH = 22


def period_option(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise CommandError(f"--period takes a month as YYYY-MM, not {text!r}.") from None


def tenant_option(schema: str) -> str:
    if schema == "public" or not Tenant.objects.filter(schema_name=schema).exists():
        raise CommandError(f"No tenant has the schema {schema!r}.")
    return schema


class Command(BaseCommand):
    help = (
        "Reconcile a billing period: per cost category with billing units and per cost "
        "column, the ingested bill against what is invoiced, unallocated and unbilled. "
        "Exits non-zero when a difference is not zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("--period", required=True, help="Billing period, YYYY-MM")

    def handle(self, *args: Any, **options: Any) -> None:
        period = period_option(options["period"])
        schema = tenant_option(options["tenant"])
        with schema_context(schema):
            result = reconcile(period)
            if not result.categories:
                raise CommandError(
                    "No billing units exist, so there is nothing to reconcile; create them first."
                )
            if not result.has_data:
                raise CommandError(
                    f"No cost data is loaded and no invoice exists for {period:%Y-%m}."
                )
            self._print(result)
        if not result.balanced:
            unbalanced = [c.category.name for c in result.categories if not c.balanced]
            raise CommandError(
                f"{period:%Y-%m} does not reconcile: {', '.join(unbalanced)} "
                f"{'has' if len(unbalanced) == 1 else 'have'} a difference (see above)."
            )

    def _row(self, label: str, amounts: Amounts) -> None:
        # Fixed-point, every digit: a zero with many decimals would print as "0E-10".
        figures = "".join(f"{value:>{WIDTH}f}" for _, value in amounts.items())
        self.stdout.write(f"  {label[:34]:<34}{figures}")

    def _print(self, result: Reconciliation) -> None:
        self.stdout.write(f"Reconciliation of {result.period:%Y-%m}")
        for note in result.notes:
            self.stdout.write(f"note: {note}")
        for part in result.categories:
            self._category(part)

    def _category(self, part: CategoryReconciliation) -> None:
        run = f"allocation run {part.run.pk}" if part.run else "not allocated"
        status = "balanced" if part.balanced else "DIFFERENCE"
        self.stdout.write("")
        self.stdout.write(f"{part.category.name} ({run}): {status}")
        header = "".join(f"{COLUMN_LABELS[c]:>{WIDTH}}" for c in COLUMNS)
        self.stdout.write(f"  {'':<34}{header}")
        for label, amounts in part.rows:
            self._row(label, amounts)
        self._details(part)
        for text in part.notes:
            self.stdout.write(f"  note: {text}")

    def _details(self, part: CategoryReconciliation) -> None:
        """Where the invoiced and unbilled figures come from, and the credit notes."""
        if part.invoiced:
            self.stdout.write("  Invoices:")
        for item in part.invoiced:
            number = item.invoice.number or f"draft {item.invoice.pk}"
            self._row(f"  {item.unit.name} ({number})", item.amounts)
        if part.unbilled_values:
            self.stdout.write("  Unbilled values (no billing unit):")
        for value in part.unbilled_values:
            self._row(f"  {value.value}", value.amounts)
        if part.unbilled_units:
            self.stdout.write("  Units without an invoice:")
        for unit in part.unbilled_units:
            self._row(f"  {unit.unit.name}", unit.amounts)
            self.stdout.write(f"      {unit.reason}")
        if part.credit_notes:
            self.stdout.write("  Credit notes (change the resale amount, not the wholesale):")
        for note in part.credit_notes:
            original = note.original.number if note.original else ""
            self.stdout.write(
                f"    {note.number} of {original} ({note.unit.name}): "
                f"{money(note.total, note.currency)} {note.currency}"
            )
