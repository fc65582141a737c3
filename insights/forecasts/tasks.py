"""Celery tasks of the forecasts: every series of a tenant forecast again (nightly on beat,
and after each ingest)."""

from __future__ import annotations

from datetime import date

from insights.forecasts.store import forecasts_compute
from portal.core.tasks import tenant_task


@tenant_task(name="insights.tasks.compute_forecasts", acks_late=True)
def compute_forecasts(schema_name: str, today: str | None = None) -> int:
    """Forecast one tenant's series again (`today`: an ISO date, by default today); safe to
    run again or twice at once, as each run replaces every stored forecast."""
    return len(forecasts_compute(date.fromisoformat(today) if today else None))
