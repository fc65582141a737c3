from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from invoices.reconcile import Amounts, CategoryReconciliation, Reconciliation, reconcile
from invoices.reconcile_text import Widths, column_widths, heading_line, row_line
from invoices.serializers import money
from portal.tenants.models import Tenant

# A line of a category's table: a label with a figure per cost column, or text as it is.
Line = tuple[str, Amounts] | str


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

    def _row(self, label: str, amounts: Amounts, widths: Widths | None = None) -> None:
        self.stdout.write(row_line(label, amounts, widths))

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
        lines: list[Line] = [*part.rows, *self._details(part)]
        # One set of widths for the category, so its details line up under its totals.
        widths = column_widths(line for line in lines if not isinstance(line, str))
        self.stdout.write(heading_line(widths))
        for line in lines:
            if isinstance(line, str):
                self.stdout.write(line)
            else:
                self._row(*line, widths=widths)
        for text in part.notes:
            self.stdout.write(f"  note: {text}")

    def _details(self, part: CategoryReconciliation) -> list[Line]:
        """Where the invoiced and unbilled figures come from, and the credit notes."""
        lines: list[Line] = []
        if part.invoiced:
            lines.append("  Invoices:")
        for item in part.invoiced:
            number = item.invoice.number or f"draft {item.invoice.pk}"
            lines.append((f"  {item.unit.name} ({number})", item.amounts))
        if part.unbilled_values:
            lines.append("  Unbilled values (no billing unit):")
        lines.extend((f"  {value.value}", value.amounts) for value in part.unbilled_values)
        if part.unbilled_units:
            lines.append("  Units without an invoice:")
        for unit in part.unbilled_units:
            lines.append((f"  {unit.unit.name}", unit.amounts))
            lines.append(f"      {unit.reason}")
        if part.credit_notes:
            lines.append("  Credit notes (change the resale amount, not the wholesale):")
        for note in part.credit_notes:
            original = note.original.number if note.original else ""
            lines.append(
                f"    {note.number} of {original} ({note.unit.name}): "
                f"{money(note.total, note.currency)} {note.currency}"
            )
        return lines
