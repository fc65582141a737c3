from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from insights.anomalies.tasks import detect_and_notify
from insights.models import Anomaly, AnomalyMonitor
from portal.tenants.models import Tenant


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--today takes a date such as 2026-03-01, not {text!r}.") from exc


class Command(BaseCommand):
    help = (
        "Run the tenant's anomaly monitor over the days before today (or --today) and print "
        "the anomalies that are new or go on longer than known; those past the monitor's "
        "alert thresholds are notified, as the nightly run does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("--today", help="Judge the days before this date (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Tenant.objects.filter(schema_name=options["tenant"]).exists():
            raise CommandError(f"No tenant has the schema {options['tenant']!r}.")
        today = _day(options["today"]) if options["today"] else None
        with schema_context(options["tenant"]):
            if not AnomalyMonitor.objects.filter(active=True).exists():
                self.stdout.write("No active anomaly monitor.")
                return
            found = detect_and_notify(today)
            self.stdout.write(f"{len(found)} new or extended anomalies.")
            for anomaly in found:
                self._print(anomaly)

    def _print(self, anomaly: Anomaly) -> None:
        percent = "" if anomaly.impact_percent is None else f" ({anomaly.impact_percent} %)"
        self.stdout.write(
            f"  {anomaly.get_dimension_display()} {anomaly.label or anomaly.key}: "
            f"{anomaly.start_date} to {anomaly.end_date}, expected {anomaly.expected:,.2f}, "
            f"actual {anomaly.actual:,.2f}, impact {anomaly.impact:,.2f} {anomaly.currency}"
            f"{percent}"
        )
        for cause in anomaly.root_causes[:3]:
            self.stdout.write(
                f"    {cause['dimension']} {cause['label']}: {cause['share']} % of the impact"
            )
