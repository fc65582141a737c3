from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from invoices.management.commands.reconcile import period_option, tenant_option
from invoices.models import Invoice, InvoiceRun, InvoiceRunStatus
from invoices.serializers import money
from invoices.services.runs import invoice_run_execute, invoice_run_request
from portal.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Draft a billing period's invoices for every billing unit (and issue them with "
        "--issue) here, without a worker; print each unit's invoice and the units refused. "
        "Exits non-zero when the run fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("--period", required=True, help="Billing period, YYYY-MM")
        parser.add_argument("--issue", action="store_true", help="Issue the drafts too")

    def handle(self, *args: Any, **options: Any) -> None:
        period = period_option(options["period"])
        schema = tenant_option(options["tenant"])
        with schema_context(schema):
            try:
                run = invoice_run_request(
                    actor=None,
                    period=period,
                    issue=options["issue"],
                    enqueue=False,
                    actor_name="manage.py invoice_run",
                )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            try:
                run = invoice_run_execute(actor=None, run=run)
            except ApplicationError as exc:
                raise CommandError(f"Invoice run {run.pk} failed: {exc.message}") from exc
            except Exception as exc:
                raise CommandError(f"Invoice run {run.pk} failed: {exc}") from exc
            self._summary(run)
        if run.status != InvoiceRunStatus.SUCCEEDED:
            raise CommandError(f"Invoice run {run.pk} ended {run.status}.")

    def _summary(self, run: InvoiceRun) -> None:
        self.stdout.write(f"Invoice run {run.pk} for {run.period:%Y-%m}: {run.status}")
        invoices = Invoice.objects.filter(run=run).select_related("unit").order_by("unit__name")
        self.stdout.write(
            f"  {'Unit':<30} {'Status':<8} {'Number':<20} {'Wholesale':>16} "
            f"{'Subtotal':>14} {'Total':>14} Currency"
        )
        for invoice in invoices:
            self.stdout.write(
                f"  {invoice.unit.name[:30]:<30} {invoice.status:<8} "
                f"{invoice.number or '-':<20} {invoice.wholesale_total!s:>16} "
                f"{money(invoice.subtotal, invoice.currency)!s:>14} "
                f"{money(invoice.total, invoice.currency)!s:>14} {invoice.currency}"
            )
        currencies = sorted({i.currency for i in invoices})
        for currency in currencies:
            mine = [i for i in invoices if i.currency == currency]
            self.stdout.write(
                f"  Total {currency}: {len(mine)} invoice(s), subtotal "
                f"{money(sum(i.subtotal for i in mine), currency)}, total "
                f"{money(sum(i.total for i in mine), currency)}"
            )
        for note in run.notes:
            self.stdout.write(f"  {note}")
