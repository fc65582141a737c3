from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from invoices.exports import invoice_export, period_documents
from invoices.management.commands.reconcile import period_option, tenant_option
from invoices.models import Invoice
from portal.core.errors import ApplicationError
from portal.core.money import money_text


def output_directory(text: str) -> Path:
    """`text` as a directory to write into, created if missing."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise CommandError(f"--out {path} is a file; give a directory.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".export_invoices.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CommandError(f"Cannot write into {path}: {exc.strerror or exc}.") from None
    return path


class Command(BaseCommand):
    help = (
        "Write each issued invoice and credit note of a billing period (paid and void ones "
        "too) into a directory: its PDF as stored when it was issued and a CSV of its lines, "
        "named by its number. Prints what it wrote; each document exported is recorded in "
        "the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("--period", required=True, help="Billing period, YYYY-MM")
        parser.add_argument("--out", required=True, help="Directory to write into")
        parser.add_argument(
            "--with-margins",
            action="store_true",
            help="Add wholesale cost and margin columns to the CSVs (for finance only: never "
            "send those files to a customer)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        period = period_option(options["period"])
        schema = tenant_option(options["tenant"])
        directory = output_directory(options["out"])
        margins = options["with_margins"]
        with schema_context(schema):
            documents = list(period_documents(period, Invoice.objects.all()))
            if not documents:
                raise CommandError(
                    f"The tenant {schema!r} has no issued invoice or credit note for "
                    f"{period:%Y-%m}; nothing was written."
                )
            for invoice in documents:
                try:
                    written = invoice_export(invoice=invoice, directory=directory, margins=margins)
                except ApplicationError as exc:
                    raise CommandError(exc.message) from exc
                except OSError as exc:
                    raise CommandError(
                        f"Cannot write {invoice.number} into {directory}: {exc.strerror or exc}."
                    ) from exc
                self.stdout.write(
                    f"Wrote {' and '.join(path.name for path in written)}: "
                    f"{invoice.get_kind_display().lower()} ({invoice.status}) of "
                    f"{invoice.buyer_name}, {len(invoice.lines.all())} line(s), total "
                    f"{money_text(invoice.total, invoice.currency)} {invoice.currency}"
                )
        self.stdout.write(
            f"Exported {len(documents)} document(s) of {period:%Y-%m} from {schema!r} "
            f"to {directory}."
        )
