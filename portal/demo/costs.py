"""Demo cost data: each demo payer's bills of the last full months and of this month so far,
generated and ingested."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings

from billing.generator import write_cur_legacy, write_focus
from billing.ingest.pipeline import run_ingest
from billing.models import IngestStatus, LoadedPeriod, TagKey
from billing.services.ingests import ingest_job_create
from billing.services.tags import tag_key_create
from portal.demo import data
from portal.demo.spike import plant_spike


class DemoBill(NamedTuple):
    period: date
    until: date | None  # the day a bill of the current month is delivered; None: whole month
    rows: int


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def demo_bills(today: date) -> list[DemoBill]:
    """Oldest first: the last full months, then this month up to yesterday (not on the 1st),
    with rows in proportion to its days, so that its daily cost is like the others'."""
    this_month = today.replace(day=1)
    bills = [
        DemoBill(add_months(this_month, -n), None, data.COST_ROWS)
        for n in range(data.COST_MONTHS, 0, -1)
    ]
    if today.day > 1:
        days = calendar.monthrange(today.year, today.month)[1]
        bills.append(DemoBill(this_month, today, data.COST_ROWS * (today.day - 1) // days))
    return bills


def billed_accounts(organization: data.OrganizationSpec) -> list[tuple[str, str]]:
    """The bills' usage accounts: the payer, then the organization's billed accounts."""
    names = {spec.account_id: spec.name for spec in organization.accounts}
    billed = [(account_id, names[account_id]) for account_id in organization.billed]
    return [(organization.payer_id, organization.payer_name), *billed]


def bill_name(payer: str, bill: DemoBill, fmt: str) -> str:
    until = "" if bill.until is None else f"-until-{bill.until:%d}"
    return f"bill-{payer}-{bill.period:%Y-%m}{until}.{fmt}"


def _loaded_partial(payer: str, bill: DemoBill, fmt: str) -> bool | None:
    """None: the month is not loaded; True: loaded from a demo bill delivered mid-month
    that this one supersedes (more days); False: loaded and kept."""
    loaded = (
        LoadedPeriod.objects.filter(billing_account_id=payer, billing_period_start=bill.period)
        .select_related("job")
        .first()
    )
    if loaded is None:
        return None
    names = [f.get("name", "") for f in loaded.job.files]
    partial = f"bill-{payer}-{bill.period:%Y-%m}-until-"
    wanted = bill_name(payer, bill, fmt)
    return all(n.startswith(partial) for n in names) and wanted not in names


def ensure_cost_data(*, actor: Any, today: date, made: Any) -> None:
    """Tag keys, then each payer's demo bills not loaded yet. A month loaded from a bill
    delivered mid-month is delivered again, with the days since (as AWS does)."""
    for name, aliases in data.TAG_KEYS:
        if not TagKey.objects.filter(name=name).exists():
            tag_key_create(actor=actor, name=name, aliases=list(aliases))
            made(f"tag key {name}")
    folder = Path(settings.LOCAL_DIR) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    writers = ((data.ACME, write_cur_legacy, "csv.gz"), (data.SUBSIDIARY, write_focus, "csv"))
    for bill in demo_bills(today):
        for organization, write, fmt in writers:
            payer = organization.payer_id
            partial = _loaded_partial(payer, bill, fmt)
            if partial is False:
                continue
            path = folder / bill_name(payer, bill, fmt)
            generated = write(
                path,
                rows=bill.rows,
                period=bill.period,
                payer_id=payer,
                seed=data.COST_SEED,
                fmt=fmt,
                until=bill.until,
                accounts=billed_accounts(organization),
            )
            if organization is data.ACME:
                plant_spike(generated.path, period=bill.period, until=bill.until, today=today)
            job = ingest_job_create(actor=actor, paths=[generated.path], enqueue=False)
            job = run_ingest(job.pk)
            if job.status != IngestStatus.SUCCEEDED:
                raise RuntimeError(f"Demo bill {path.name} did not load: {job.message}")
            days = "" if bill.until is None else f" up to {bill.until - timedelta(days=1):%d %b}"
            again = " again" if partial else ""
            made(
                f"bill of {bill.period:%Y-%m}{days} for payer {payer}{again} "
                f"({job.rows_stored:,} rows)"
            )
