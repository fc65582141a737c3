from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from allocation.engine.order import categories_in_dependency_order
from allocation.engine.run import allocation_run_now
from allocation.models import AllocationRun, CostCategory
from portal.core.errors import ApplicationError


def _period(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError(f"--period takes YYYY-MM, not {text!r}.") from exc


class Command(BaseCommand):
    help = (
        "Allocate a billing period's costs to cost categories (all, in dependency order, or "
        "one) here, without a worker, and print the totals per value."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("--period", required=True, help="Billing period, YYYY-MM")
        parser.add_argument("--category", help="Name of one cost category (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        period = _period(options["period"])
        with schema_context(options["tenant"]):
            if options["category"]:
                category = CostCategory.objects.filter(name=options["category"]).first()
                if category is None:
                    raise CommandError(f"No cost category is named {options['category']!r}.")
                categories = [category]
            else:
                categories = categories_in_dependency_order(period)
            for category in categories:
                try:
                    run = allocation_run_now(actor=None, category=category, period=period)
                except ApplicationError as exc:
                    raise CommandError(f"{category.name}: {exc.message}") from exc
                self._summary(run)

    def _summary(self, run: AllocationRun) -> None:
        version = f"v{run.ruleset.number}" if run.ruleset else "no version"
        self.stdout.write(f"{run.category.name} {run.period:%Y-%m} ({version}): {run.status}")
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for value, billed, effective in run.results.values_list(
            "value", "billed_cost", "effective_cost"
        ):
            sums[value][0] += billed
            sums[value][1] += effective
        self.stdout.write(f"  {'Value':<30} {'BilledCost':>20} {'EffectiveCost':>20}")
        for value in sorted(sums):
            billed, effective = sums[value]
            self.stdout.write(f"  {value[:30]:<30} {billed:>20} {effective:>20}")
        unallocated = sums.get(run.category.fallback_value, [Decimal(0), Decimal(0)])
        self.stdout.write(
            f"  Unallocated ({run.category.fallback_value}): billed {unallocated[0]}, "
            f"effective {unallocated[1]}"
        )
        for note in run.notes:
            self.stdout.write(f"  note: {note}")
