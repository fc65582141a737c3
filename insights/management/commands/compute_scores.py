from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_tenants.utils import schema_context

from insights.models import TeamScore
from insights.scores.compute import week_start
from insights.services import team_scores_compute
from portal.tenants.models import Tenant


def _iso_week(text: str) -> date:
    """2026-W45 -> the Monday it starts on."""
    try:
        return date.fromisocalendar(int(text[:4]), int(text.split("-W")[1]), 1)
    except (ValueError, IndexError) as exc:
        raise CommandError(f"--week takes an ISO week such as 2026-W45, not {text!r}.") from exc


class Command(BaseCommand):
    help = (
        "Compute the teams' efficiency scores of an ISO week (--week 2026-W45) or of the "
        "last N full weeks (--weeks 12), replacing stored ones, and print each team's score."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--week", help="An ISO week, e.g. 2026-W45")
        which.add_argument("--weeks", type=int, help="The last N full weeks (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Tenant.objects.filter(schema_name=options["tenant"]).exists():
            raise CommandError(f"No tenant has the schema {options['tenant']!r}.")
        if options["week"]:
            weeks = [_iso_week(options["week"])]
        else:
            count = options["weeks"] or 1
            if not 1 <= count <= 520:
                raise CommandError("--weeks takes 1 to 520.")
            last = week_start(timezone.localdate()) - timedelta(days=7)
            weeks = [last - timedelta(days=7 * n) for n in reversed(range(count))]
        with schema_context(options["tenant"]):
            for monday in weeks:
                scores = team_scores_compute(actor=None, week=monday)
                self._print(monday, scores)

    def _print(self, monday: date, scores: list[TeamScore]) -> None:
        self.stdout.write(f"{monday:%G-W%V} (from {monday}):")
        if not scores:
            self.stdout.write("  no team is bound to a cost category value")
        for score in sorted(scores, key=lambda s: s.team.name):
            shown = "not applicable" if score.score is None else f"{score.score}"
            self.stdout.write(f"  {score.team.name}: {shown}")
