"""Demo cost data: last month's bill of each demo payer, generated and ingested."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings

from billing.generator import write_cur_legacy, write_focus
from billing.ingest.pipeline import run_ingest
from billing.models import IngestStatus, LoadedPeriod, TagKey
from billing.services.ingests import ingest_job_create
from billing.services.tags import tag_key_create
from portal.demo import data


def last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def ensure_cost_data(*, actor: Any, today: date, made: Any) -> None:
    """Tag keys, then last month's bill of each payer that has no cost data yet."""
    for name, aliases in data.TAG_KEYS:
        if not TagKey.objects.filter(name=name).exists():
            tag_key_create(actor=actor, name=name, aliases=list(aliases))
            made(f"tag key {name}")
    period = last_month(today)
    folder = Path(settings.LOCAL_DIR) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    bills = (
        (data.ACME.payer_id, write_cur_legacy, "csv.gz"),
        (data.SUBSIDIARY.payer_id, write_focus, "csv"),
    )
    for payer, write, fmt in bills:
        if LoadedPeriod.objects.filter(billing_account_id=payer).exists():
            continue
        path = folder / f"bill-{payer}-{period:%Y-%m}.{fmt}"
        bill = write(
            path, rows=data.COST_ROWS, period=period, payer_id=payer, seed=data.COST_SEED, fmt=fmt
        )
        job = ingest_job_create(actor=actor, paths=[bill.path], enqueue=False)
        job = run_ingest(job.pk)
        if job.status != IngestStatus.SUCCEEDED:
            raise RuntimeError(f"Demo bill {path.name} did not load: {job.message}")
        made(f"bill of {period:%Y-%m} for payer {payer} ({job.rows_stored:,} rows)")
