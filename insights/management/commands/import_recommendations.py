from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from insights.scores.imported import ImportReport, recommendations_import
from portal.core.errors import ApplicationError
from portal.core.money import money_text
from portal.tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Import an AWS Cost Optimization Hub export (.csv or .csv.gz) into the teams owning "
        "its resources or accounts; print each team's recommendations and monthly saving, "
        "then the rows no team owns and the rows that could not be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("file", help="The export: a .csv or .csv.gz file")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Drop every earlier imported recommendation first",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Tenant.objects.filter(schema_name=options["tenant"]).exists():
            raise CommandError(f"No tenant has the schema {options['tenant']!r}.")
        with schema_context(options["tenant"]):
            try:
                report = recommendations_import(
                    actor=None, path=options["file"], replace=options["replace"]
                )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
        self._print(report)

    def _print(self, report: ImportReport) -> None:
        totals = report.per_team()
        self.stdout.write(
            f"{report.name}: {report.rows} rows, {len(report.matched)} imported for "
            f"{len(totals)} teams, {len(report.unmatched)} without a team, "
            f"{len(report.refused)} refused."
        )
        for total in totals:
            savings = " + ".join(
                f"{money_text(amount, currency)} {currency}"
                for currency, amount in sorted(total.savings.items())
            )
            self.stdout.write(f"  {total.team}: {total.count} recommendations, {savings} a month")
        if report.removed:
            self.stdout.write(f"Removed {report.removed} earlier imported recommendations.")
        if report.unmatched:
            self.stdout.write("Without a team (not imported):")
        for row in report.unmatched:
            resource = f", resource {row.resource}" if row.resource else ""
            self.stdout.write(
                f"  line {row.line}: {row.recommendation_id}, account {row.account or '-'}"
                f"{resource}: {row.reason}"
            )
        if report.refused:
            self.stdout.write("Refused (not read):")
        for refusal in report.refused:
            shown = refusal.recommendation_id or "(no id)"
            self.stdout.write(f"  line {refusal.line}: {shown}, {refusal.field}: {refusal.message}")
