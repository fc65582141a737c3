"""The anomaly benchmark's estate: 90 days of many accounts' daily cost, at the rollup level.

One payer; `accounts` accounts of 1 to 3 cost lines each (a service and usage type of 100
services, one of 8 regions), tagged with one of `teams` teams; a quarter of the accounts
cost half at weekends; every line varies by about 3 % a day. A few accounts carry a planted
spike: for 1 to 3 days one of their lines costs 2 to 6 times the account's usual day more.
Each month is loaded as the cost rollup such a bill rolls up to (one line item per rollup
row), through the ingest's own staging and publish code (`bench.explorer_data` does the
same for the explorer), so the cube and tag summaries are built as by an ingest. NumPy draws
it from fixed seeds: the same size, the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
from django.db import connection, transaction
from django.utils import timezone

from bench.common import ROOT
from bench.explorer_data import _decimal_text, _names
from billing.ingest.connections import raw_cursor
from billing.ingest.contract import STORE_SCHEMA, NormalizedBatch, Sums
from billing.ingest.pipeline import summary_tag_keys
from billing.ingest.publish import publish_loads
from billing.ingest.reconcile import check_sums
from billing.ingest.registration import register_seen_accounts
from billing.ingest.rollup import stage_rollup
from billing.ingest.staging import PeriodLoad, StagingLoader
from billing.ingest.summaries import ROLLUP_COLUMNS
from billing.ingest.tagsets import TagSetResolver
from billing.models import IngestJob, IngestStatus, LoadedPeriod
from billing.services.ingests import ingest_job_create
from portal.core.connections import claimed, side_connection

SEED = 20260401
PERIODS = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
FIRST_DAY, DAYS = PERIODS[0], 90  # 1 January to 31 March
PAYER, PAYER_NAME = "600000000001", "Bench Anomalies"
SERVICES = tuple(f"BenchService{n:03d}" for n in range(100))
USAGES_PER_SERVICE = 3
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "us-east-2",
           "ap-southeast-2", "ap-northeast-1", "sa-east-1")  # fmt: skip
NOISE = 0.03
PLANTED = 50
SPIKE_FROM_DAY = 45  # every planted spike lies in the days judged


@dataclass(frozen=True)
class Spike:
    account: int
    line: int
    first: int  # day index
    days: int
    extra: int  # millionths a day


@dataclass(frozen=True)
class Estate:
    accounts: list[str]
    account_team: np.ndarray
    teams: tuple[str, ...]
    line_account: np.ndarray
    line_combo: np.ndarray  # service * USAGES_PER_SERVICE + usage
    line_region: np.ndarray
    amounts: np.ndarray  # (lines, DAYS) millionths, spikes included
    spikes: list[Spike]

    def spike_days(self, spike: Spike) -> tuple[date, date]:
        first = FIRST_DAY + timedelta(days=spike.first)
        return first, first + timedelta(days=spike.days - 1)


def estate(accounts: int, teams: tuple[str, ...]) -> Estate:
    rng = np.random.default_rng(SEED)
    ids = [str(600000000000 + 1000 + n) for n in range(accounts)]
    per_account = np.minimum(1 + rng.poisson(1.0, accounts), 3)
    line_account = np.repeat(np.arange(accounts), per_account)
    nth = np.concatenate([np.arange(k) for k in per_account])
    combos = len(SERVICES) * USAGES_PER_SERVICE
    # Distinct lines of an account: steps of 101 from its first combination.
    line_combo = (rng.integers(combos, size=accounts)[line_account] + 101 * nth) % combos
    line_region = rng.integers(len(REGIONS), size=accounts)[line_account]
    level = rng.lognormal(2.5, 1.3, len(line_account))  # dollars a day
    weekly = (rng.random(accounts) < 0.25)[line_account]
    weekend = np.array([(FIRST_DAY + timedelta(days=d)).weekday() >= 5 for d in range(DAYS)])
    factor = np.where(weekly[:, None] & weekend[None, :], 0.5, 1.0)
    noise = rng.lognormal(0, NOISE, (len(line_account), DAYS))
    amounts = np.rint(level[:, None] * factor * noise * 1e6).astype(np.int64)
    daily_total = np.bincount(line_account, weights=level, minlength=accounts)
    spikes = []
    for account in rng.choice(accounts, size=min(PLANTED, accounts), replace=False):
        line = int(rng.choice(np.flatnonzero(line_account == account)))
        first = int(rng.integers(SPIKE_FROM_DAY, DAYS - 3))
        length = int(rng.integers(1, 4))
        extra = int(daily_total[account] * rng.uniform(2, 6) * 1e6)
        amounts[line, first : first + length] += extra
        spikes.append(Spike(int(account), line, first, length, extra))
    account_team = rng.integers(len(teams), size=accounts)
    return Estate(ids, account_team, teams, line_account, line_combo, line_region, amounts, spikes)


def rollup_rows(world: Estate, period: date, tag_ids: pa.Array) -> tuple[pa.Table, Sums]:
    """The period's rollup rows (ROLLUP_COLUMNS as text) and their sums."""
    offset = (period - FIRST_DAY).days
    following = (period + timedelta(days=32)).replace(day=1)
    length = (following - period).days
    lines = len(world.line_account)
    line = np.repeat(np.arange(lines), length)
    day = np.tile(np.arange(length), lines)
    billed = world.amounts[line, day + offset]
    effective = billed * 6 // 10
    account = world.line_account[line]
    combo = world.line_combo[line]
    usage_names = [f"{s}-Usage{u}" for s in SERVICES for u in range(USAGES_PER_SERVICE)]
    text = {
        "day": _names([f"{period + timedelta(days=d)}" for d in range(length)], day),
        "sub_account_id": _names(world.accounts, account),
        "sub_account_name": _names([f"bench-{a}" for a in world.accounts], account),
        "service_name": _names(list(SERVICES), combo // USAGES_PER_SERVICE),
        "region_id": _names(list(REGIONS), world.line_region[line]),
        "charge_category": _names(["Usage"], np.zeros(len(line), np.int64)),
        "x_usage_type": _names(usage_names, combo),
        "pricing_unit": _names(["Hrs"], np.zeros(len(line), np.int64)),
        "x_operation": pa.nulls(len(line), pa.string()),
        "commitment_discount_type": pa.nulls(len(line), pa.string()),
        "tag_set_id": _names(tag_ids.to_pylist(), world.account_team[account]),
        "billed_cost": _decimal_text(billed),
        "effective_cost": _decimal_text(effective),
        "list_cost": _decimal_text(billed),
        "contracted_cost": _decimal_text(billed),
        "pricing_quantity": pa.nulls(len(line), pa.string()),
        "row_count": pa.array(np.ones(len(line), np.int64)).cast(pa.string()),
    }
    sums = Sums(
        len(line), Decimal(int(billed.sum())).scaleb(-6), Decimal(int(effective.sum())).scaleb(-6)
    )
    return pa.table({name: text[name] for name in ROLLUP_COLUMNS}), sums


def is_loaded(world: Estate) -> bool:
    """The three months are stored with one rollup row per line and day."""
    loaded = LoadedPeriod.objects.filter(billing_period_start__in=PERIODS, billing_account_id=PAYER)
    return sum(lp.rows for lp in loaded) == len(world.line_account) * DAYS and loaded.count() == 3


def load(world: Estate) -> IngestJob:
    """Load the three months through the ingest's staging and publish code."""
    descriptor = ROOT / ".local" / "bench" / f"anomalies-rollup-{len(world.accounts)}.json"
    descriptor.parent.mkdir(parents=True, exist_ok=True)
    about = {"seed": SEED, "accounts": len(world.accounts), "days": DAYS, "payer": PAYER}
    descriptor.write_text(json.dumps({"generated_cost_rollup": about}))
    job = ingest_job_create(actor=None, paths=[descriptor], enqueue=False)
    with claimed("ingest", job.pk):
        job.status, job.started_at, job.attempts = IngestStatus.RUNNING, timezone.now(), 1
        job.formats = ["generated cost rollup"]
        job.save()
        loads = _stage(world, job.pk)
        publish_loads(job=job, loads=loads, tag_keys=summary_tag_keys())
        job.notes = register_seen_accounts(actor=None, loads=loads[:1])
        job.rows_read = job.rows_stored = job.rows_total = sum(x.stored.rows for x in loads)
        job.status, job.finished_at = IngestStatus.SUCCEEDED, timezone.now()
        job.message = f"Stored 2026-01 to 2026-03 of payer {PAYER}."
        job.save()
    return job


def _stage(world: Estate, job_id: int) -> list[PeriodLoad]:
    schema = connection.schema_name  # type: ignore[attr-defined]
    with side_connection(schema) as side:
        tag_sets = TagSetResolver(side)
        texts = [json.dumps({"team": team}) for team in world.teams]
        tag_ids = tag_sets.ids_for(pa.array(texts, pa.string()))
        with transaction.atomic():
            cursor = raw_cursor()
            loader = StagingLoader(cursor, job_id=job_id, tag_sets=tag_sets)
            tables = {}
            for period in PERIODS:
                table, sums = rollup_rows(world, period, tag_ids)
                tables[period] = (table, sums)
                batch = NormalizedBatch(
                    table=STORE_SCHEMA.empty_table(),
                    rows_read=sums.rows,
                    source_sums={(f"{period}", PAYER): sums},
                )
                loader.write(batch, groups=None)
            loads = list(loader.finish().values())
            for period_load in loads:
                period = date.fromisoformat(period_load.key[0])
                table, sums = tables[period]
                period_load.stored = sums
                period_load.payer_names = {PAYER_NAME}
                period_load.currencies = {"USD"}
                period_load.accounts = {("AWS", a): f"bench-{a}" for a in world.accounts}
                period_load.rollup_table = stage_rollup(
                    cursor, period=f"{period}", payer=PAYER, line_items=period_load.table,
                    rows=table,
                )  # fmt: skip
            check_sums(loads)
    return loads
