"""Demo recommendations from an AWS Cost Optimization Hub export: rightsizing, Graviton,
EBS gp2 to gp3, idle resources and commitments across the demo accounts, imported into the
teams that own them, and two rows of an account no team has (reported, not imported)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from insights.models import ImportedRecommendation
from insights.scores.imported import SOURCE, recommendations_import

EXPORT = Path(__file__).resolve().parent / "files" / "cost_optimization_hub.csv"


def ensure_imported_recommendations(*, actor: Any, today: date, made: Any) -> None:
    """The demo export, once: imported after the teams are bound and allocated."""
    if ImportedRecommendation.objects.filter(source=SOURCE).exists():
        return
    report = recommendations_import(actor=actor, path=EXPORT, today=today)
    teams = ", ".join(f"{t.team} {t.count}" for t in report.per_team())
    made(
        f"{len(report.matched)} recommendations from {EXPORT.name} ({teams}); "
        f"{len(report.unmatched)} without a team"
    )
