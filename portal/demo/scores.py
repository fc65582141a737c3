"""Demo team scores: the last twelve full weeks, so the teams have a trend from the start."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from insights.models import TeamScore
from insights.scores.compute import week_start
from insights.services import team_scores_compute

WEEKS = 12


def ensure_team_scores(*, actor: Any, today: date, made: Any) -> None:
    """Each of the last twelve full weeks that has no scores yet."""
    last = week_start(today) - timedelta(days=7)
    for n in reversed(range(WEEKS)):
        monday = last - timedelta(days=7 * n)
        if TeamScore.objects.filter(week=monday).exists():
            continue
        if team_scores_compute(actor=actor, week=monday):
            made(f"team scores of {monday:%G-W%V}")
