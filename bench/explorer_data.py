"""The explorer benchmark's estate: three months of a big bill, at the rollup level.

A 10,000,000-line CUR month takes too long to generate and read, and the explorer never reads
line items, so each month is generated as the cost rollup such a month rolls up to (about ten
line items per rollup row: one row per day, account, service, region, charge category, usage
type, pricing unit and tag set, `row_count` summing to the month's line items) and loaded
through the ingest's own code: an ingest job, staging tables made by `StagingLoader` (the line
item tables stay empty), the staged rollup (`stage_rollup`), the sums check, `publish_loads`
(which builds the explorer's summaries) and the registration of the payers and accounts seen.

The estate: 2 payers, 150 accounts, 40 services, about 300 usage types (each of one service), 8
regions, charge categories Usage, Purchase, Tax and Credit, and a few thousand tag sets over the
keys team (12 values, or `teams`), env (4), cost-center (20) and app. Cost lines live for all or
part of the quarter. NumPy draws it from fixed seeds: the same size, the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.utils import timezone

from bench.common import ROOT
from bench.instance_facts import COMMITMENTS, OPERATIONS, instance_facts
from billing.ingest.connections import raw_cursor
from billing.ingest.contract import STORE_SCHEMA, NormalizedBatch, Sums
from billing.ingest.pipeline import summary_tag_keys
from billing.ingest.publish import publish_loads
from billing.ingest.reconcile import check_sums
from billing.ingest.registration import register_seen_accounts
from billing.ingest.rollup import stage_rollup
from billing.ingest.staging import PeriodLoad, StagingLoader
from billing.ingest.summaries import ROLLUP_COLUMNS, trim_scale
from billing.ingest.tagsets import TagSetResolver
from billing.models import IngestJob, IngestStatus, LoadedPeriod
from billing.services.ingests import ingest_job_create
from portal.core.connections import claimed, side_connection

SEED = 20260301
PERIODS = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
WINDOW_DAYS = (date(2026, 4, 1) - PERIODS[0]).days
LINE_ITEMS_PER_ROLLUP_ROW = 10
BILLED = ("billed", "effective")  # the sums the ingest checks, in millionths
# (id, name, accounts)
PAYERS = (("500000000001", "Bench Explorer Holdings", 100), ("500000000002", "Bench Retail", 50))
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "us-east-2",
           "ap-southeast-2", "ap-northeast-1", "sa-east-1")  # fmt: skip
REGION_WEIGHTS = (40, 18, 14, 9, 8, 5, 4, 2)
TEAMS = ("payments", "search", "web", "data", "ml", "platform", "mobile", "checkout",
         "identity", "growth", "infra", "analytics")  # fmt: skip
ENVS = ("prod", "staging", "dev", "test")
COST_CENTERS = tuple(f"CC-{1000 + 97 * n}" for n in range(20))
APPS = ("api", "worker", "db", "cache", "ingest", "batch", "ui", "gateway", "stream",
        "scheduler", "search", "reports", "auth", "etl", "model", "feed")  # fmt: skip
CATEGORIES = ("Usage", "Purchase", "Tax", "Credit")
CATEGORY_WEIGHTS = (0.90, 0.01, 0.05, 0.04)
SAVINGS_PLANS = "ComputeSavingsPlans"
GLOBAL_SERVICES = {"AmazonCloudFront", "AmazonRoute53", "AWSSupportBusiness", SAVINGS_PLANS}
INSTANCES = [f"{family}.{size}" for family in ("t3", "m5", "m6g", "m7g", "c5", "c7g", "r5",
             "r6g", "g5", "p3") for size in ("large", "xlarge", "2xlarge")]  # fmt: skip
MINOR_SERVICES = ("AWSLambda", "AmazonDynamoDB", "AmazonCloudFront", "AmazonCloudWatch",
                  "AmazonEKS", "AmazonECS", "AmazonElastiCache", "AmazonES", "AmazonRedshift",
                  "AmazonSageMaker", "AmazonKinesis", "AmazonSNS", "AmazonSQS",
                  "AmazonRoute53", "AWSGlue", "AmazonAthena", "AmazonEFS", "AmazonVPC",
                  "AWSConfig", "AWSCloudTrail", "awskms", "AWSSecretsManager", "AmazonECR",
                  "AWSBackup", "AmazonMSK", "AmazonMQ", "AmazonStates", "AmazonApiGateway",
                  "AWSDataTransfer", "AmazonGuardDuty", "awswaf", "AmazonInspector",
                  "AWSSupportBusiness", "AmazonQuickSight", "AmazonWorkSpaces",
                  "AmazonLightsail")  # fmt: skip
MINOR_USAGE = (("Requests", "Requests"), ("TimedStorage-ByteHrs", "GB-Mo"),
               ("DataTransfer-Out-Bytes", "GB"), ("Hours", "Hrs"), ("Units", "Units"),
               ("API-Calls", "Requests"))  # fmt: skip


@dataclass(frozen=True)
class Catalogue:
    services: list[str]
    service_weights: np.ndarray
    usage_types: list[str]
    units: list[str]
    usage_service: np.ndarray  # service index of each usage type


def catalogue() -> Catalogue:
    """40 services and their usage types (about 300), EC2 and RDS the largest."""
    major: list[tuple[str, float, list[tuple[str, str]]]] = [
        ("AmazonEC2", 30, [(f"BoxUsage:{it}", "Hrs") for it in INSTANCES]
         + [(f"SpotUsage:{it}", "Hrs") for it in INSTANCES[:10]]
         + [("EBS:VolumeUsage.gp3", "GB-Mo"), ("EBS:VolumeUsage.gp2", "GB-Mo"),
            ("EBS:SnapshotUsage", "GB-Mo"), ("EBS:VolumeIOUsage", "IOs"),
            ("DataTransfer-Out-Bytes", "GB"), ("DataTransfer-Regional-Bytes", "GB"),
            ("NatGateway-Hours", "Hrs"), ("NatGateway-Bytes", "GB"),
            ("ElasticIP:IdleAddress", "Hrs")]),
        ("AmazonRDS", 12, [(f"InstanceUsage:db.{it}", "Hrs") for it in INSTANCES[3:21]]
         + [(f"Multi-AZUsage:db.{it}", "Hrs") for it in INSTANCES[3:11]]
         + [("RDS:GP3-Storage", "GB-Mo"), ("RDS:ChargedBackupUsage", "GB-Mo"),
            ("RDS:StorageIOUsage", "IOs"), ("Aurora:StorageUsage", "GB-Mo")]),
        ("AmazonS3", 8, [(u, "GB-Mo") for u in ("TimedStorage-ByteHrs",
         "TimedStorage-INT-FA-ByteHrs", "TimedStorage-SIA-ByteHrs",
         "TimedStorage-GlacierByteHrs")] + [(f"Requests-Tier{n}", "Requests") for n in (1, 2, 3)]
         + [("DataTransfer-Out-Bytes", "GB"), ("Retrieval-SIA", "GB")]),
        (SAVINGS_PLANS, 0, [("ComputeSP:1yrNoUpfront", "Hrs"), ("ComputeSP:3yrNoUpfront", "Hrs")]),
    ]  # fmt: skip
    for rank, name in enumerate(MINOR_SERVICES):
        prefix = name.removeprefix("Amazon").removeprefix("AWS").upper()[:8]
        usage = [(f"{prefix}-{stem}", unit) for stem, unit in MINOR_USAGE]
        major.append((name, 24 / (rank + 3), usage))
    services, weights, usage_types, units, owners = [], [], [], [], []
    for index, (name, weight, usage) in enumerate(major):
        services.append(name)
        weights.append(weight)
        for usage_type, unit in usage:
            usage_types.append(usage_type)
            units.append(unit)
            owners.append(index)
    return Catalogue(services, np.array(weights, float), usage_types, units, np.array(owners))


@dataclass(frozen=True)
class Estate:
    catalogue: Catalogue
    accounts: list[str]
    account_names: list[str]
    account_payer: np.ndarray  # index into PAYERS
    tag_texts: list[str]  # tag JSON of each tag set
    combos: dict[str, np.ndarray]  # one entry per cost line: its keys and how it behaves


def estate(rows_per_month: int, teams: tuple[str, ...] = TEAMS) -> Estate:
    """The accounts, tag sets and cost lines of a bill of `rows_per_month` line items."""
    rng = np.random.default_rng(SEED)
    cat = catalogue()
    ids = rng.choice(10**11, size=150, replace=False) + 10**11
    payer = np.repeat(np.arange(len(PAYERS)), [n for _, _, n in PAYERS])
    owner_team = rng.integers(len(teams), size=150)
    names = [f"{teams[t]}-{ENVS[n % 4]}-{n:03d}" for n, t in enumerate(owner_team)]
    tag_texts, tag_team = _tag_sets(rng, teams)
    # Rows a cost line gives a month: usage and purchases daily, tax and credits monthly.
    per_line = 0.9 * 0.97 * 30 * 0.93 + 0.01 * 30 + 0.09
    lines = max(50, round(rows_per_month / LINE_ITEMS_PER_ROLLUP_ROW / per_line))
    # A bill key (account, usage type, region, charge category) is shared by resources of
    # several tag sets (apps, envs) or, for a fifth of them and for tax and credits, none.
    bases = round(lines / 2.2)
    account = _weighted(rng, rng.lognormal(0, 1.2, 150), bases)
    category = _weighted(rng, np.array(CATEGORY_WEIGHTS), bases)
    usage = _usage_types(rng, cat, category)
    service = np.where(usage >= 0, cat.usage_service[np.maximum(usage, 0)], 0)
    monthly = category >= CATEGORIES.index("Tax")
    service[monthly] = _weighted(rng, cat.service_weights, int(monthly.sum()))
    usage[monthly] = -1
    region = _weighted(rng, np.array(REGION_WEIGHTS, float), bases)
    region[np.isin(service, [cat.services.index(s) for s in GLOBAL_SERVICES])] = -1
    tagged = ~monthly & (rng.random(bases) < 0.8)
    base = np.repeat(np.arange(bases), np.where(tagged, 1 + rng.poisson(1.5, bases), 1))
    account, service, usage, region, category = (
        column[base] for column in (account, service, usage, region, category)
    )
    count = len(base)
    owned = rng.random(count) < 0.75
    team = np.where(owned, owner_team[account], rng.integers(len(teams), size=count))
    tag_set = np.full(count, -1)
    for t in range(len(teams)):
        chosen = (team == t) & tagged[base]
        tag_set[chosen] = rng.choice(np.flatnonzero(tag_team == t), int(chosen.sum()))
    keys = np.stack([account, service, usage, region, category, tag_set], axis=1)
    _, first_of_each = np.unique(keys, axis=0, return_index=True)
    keep = np.sort(first_of_each)
    start = np.where(rng.random(count) < 0.85, 0, rng.integers(WINDOW_DAYS, size=count))
    end = np.where(rng.random(count) < 0.88, WINDOW_DAYS - 1, rng.integers(start, WINDOW_DAYS))
    combos = {
        "account": account, "service": service, "usage": usage, "region": region,
        "category": category, "tag_set": tag_set, "start": start, "end": end,
        "cost": rng.lognormal(0.2, 1.6, count),  # dollars a day
        "effective": rng.choice([1.0, 0.72, 0.6], count, p=[0.6, 0.3, 0.1]),
        "list": 1 + rng.gamma(1.2, 0.12, count),
        "unit_price": rng.lognormal(-2.5, 1.5, count),
        "lines": rng.lognormal(0, 0.8, count),  # relative line items per rollup row
    }  # fmt: skip
    combos = {name: values[keep] for name, values in combos.items()}
    combos |= instance_facts(cat.usage_types, combos, usage_category=CATEGORIES.index("Usage"))
    return Estate(cat, [str(i) for i in ids], names, payer, tag_texts, combos)


def _weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def _usage_types(rng: np.random.Generator, cat: Catalogue, category: np.ndarray) -> np.ndarray:
    """A usage type per cost line: of the savings plans for purchases, weighted by service
    for usage (each of a service's usage types alike)."""
    plans = cat.services.index(SAVINGS_PLANS)
    per_service = np.bincount(cat.usage_service, minlength=len(cat.services))
    weights = cat.service_weights[cat.usage_service] / per_service[cat.usage_service]
    usage = _weighted(rng, weights, len(category))
    purchase = category == CATEGORIES.index("Purchase")
    usage[purchase] = rng.choice(np.flatnonzero(cat.usage_service == plans), int(purchase.sum()))
    return usage


def _tag_sets(rng: np.random.Generator, teams: tuple[str, ...]) -> tuple[list[str], np.ndarray]:
    """Distinct tag JSON texts (a few thousand) and the team of each (each has some)."""
    draws = max(6000, 20 * len(teams))
    team = _weighted(rng, 1 / np.arange(1, len(teams) + 1) ** 0.5, draws)
    env = _weighted(rng, np.array([0.5, 0.2, 0.2, 0.1]), draws)
    center = (team * 3 + rng.integers(4, size=draws)) % len(COST_CENTERS)
    app = rng.integers(len(APPS), size=draws)
    shape = rng.random(draws)  # a few carry only some keys
    texts: dict[str, int] = {}
    for n in range(draws):
        tags = {"team": teams[team[n]]}
        if shape[n] > 0.05:
            tags["env"] = ENVS[env[n]]
        if shape[n] > 0.1:
            tags["cost-center"] = COST_CENTERS[center[n]]
            tags["app"] = f"{teams[team[n]]}-{APPS[app[n]]}"
        texts.setdefault(json.dumps(tags, sort_keys=True), int(team[n]))
    return list(texts), np.array(list(texts.values()))


@dataclass
class PayerMonth:
    """One payer's generated month: its rollup rows (index arrays and amounts in
    millionths) before they become text."""

    payer: int
    columns: dict[str, np.ndarray]


def month_rows(world: Estate, period: date, rows: int) -> list[PayerMonth]:
    """The rollup rows of `period`, per payer; their row counts sum to `rows`."""
    month = PERIODS.index(period)
    rng = np.random.default_rng([SEED, month])
    days = (_next_month(period) - period).days
    offset = (period - PERIODS[0]).days
    c = world.combos
    day = np.arange(days) + offset
    active = (c["start"][:, None] <= day) & (day <= c["end"][:, None])
    daily = c["category"] < CATEGORIES.index("Tax")
    present = np.where(
        daily[:, None], active & (rng.random(active.shape) < 0.97), active & (day == offset)
    )
    line, day_index = np.nonzero(present)
    if rows < len(line):
        raise SystemExit(f"{rows:,} line items cannot fill {len(line):,} rollup rows.")
    category = c["category"][line]
    amount = c["cost"][line] * 1.04**month * rng.lognormal(0, 0.12, len(line))
    amount = np.where(daily[line], amount, amount * days * 0.3)
    billed = np.maximum(np.rint(amount * 1e6).astype(np.int64), 1)
    billed = np.where(category == CATEGORIES.index("Credit"), -billed, billed)
    usage = category == CATEGORIES.index("Usage")
    factor = np.where(usage, c["effective"][line], 1.0)
    lines = rng.multinomial(rows - len(line), c["lines"][line] / c["lines"][line].sum()) + 1
    columns = {
        "day": day_index, "line": line, "row_count": lines, "billed": billed,
        "effective": np.rint(billed * factor).astype(np.int64),
        "list": np.rint(billed * np.where(usage, c["list"][line], 1.0)).astype(np.int64),
        "quantity": np.where(usage, np.rint(amount / c["unit_price"][line] * 1e6), -1),
    }  # fmt: skip
    payer = world.account_payer[c["account"][line]]
    return [
        PayerMonth(p, {name: values[payer == p] for name, values in columns.items()})
        for p in range(len(PAYERS))
    ]


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def rollup_table(world: Estate, period: date, part: PayerMonth, tag_ids: pa.Array) -> pa.Table:
    """A payer's month as the staged rollup's COPY rows: ROLLUP_COLUMNS, as text."""
    c, cols, cat = world.combos, part.columns, world.catalogue
    line = cols["line"]
    days = [f"{period + timedelta(days=n)}" for n in range(31)]
    usage = c["usage"][line]
    text = {
        "day": _names(days, cols["day"]),
        "sub_account_id": _names(world.accounts, c["account"][line]),
        "sub_account_name": _names(world.account_names, c["account"][line]),
        "service_name": _names(cat.services, c["service"][line]),
        "region_id": _names(list(REGIONS), c["region"][line]),
        "charge_category": _names(list(CATEGORIES), c["category"][line]),
        "x_usage_type": _names(cat.usage_types, usage),
        "pricing_unit": _names(cat.units, usage),
        "x_operation": _names(list(OPERATIONS), c["operation"][line]),
        "commitment_discount_type": _names(list(COMMITMENTS), c["commitment"][line]),
        "tag_set_id": _names(tag_ids.to_pylist(), c["tag_set"][line]),
        "billed_cost": _decimal_text(cols["billed"]),
        "effective_cost": _decimal_text(cols["effective"]),
        "list_cost": _decimal_text(cols["list"]),
        "contracted_cost": _decimal_text(cols["billed"]),
        "pricing_quantity": _decimal_text(cols["quantity"].astype(np.int64), null_below=0),
        "row_count": pa.array(cols["row_count"]).cast(pa.string()),
    }
    return pa.table({name: text[name] for name in ROLLUP_COLUMNS})


def _names(values: list[str], index: np.ndarray) -> pa.Array:
    """values[index] per row; null where index is -1."""
    return pc.take(pa.array(values, pa.string()), pa.array(index, mask=index < 0))


def _decimal_text(millionths: np.ndarray, *, null_below: int | None = None) -> pa.Array:
    """Exact decimal text of amounts given in millionths, without trailing zeros.

    The int64s are laid out as decimal128 values of scale 6 (low word, sign-extended high
    word), which Arrow writes as text.
    """
    words = np.empty((len(millionths), 2), np.int64)
    words[:, 0], words[:, 1] = millionths, millionths >> 63
    mask = None if null_below is None else pa.array(millionths < null_below)
    buffers = [None, pa.py_buffer(words)]
    values = pa.Array.from_buffers(pa.decimal128(38, 6), len(millionths), buffers)
    text = trim_scale(pc.cast(values, pa.string()))
    return text if mask is None else pc.if_else(mask, pa.scalar(None, pa.string()), text)


def _sums(part: PayerMonth) -> Sums:
    amounts = (int(part.columns[name].sum()) * Decimal("0.000001") for name in BILLED)
    return Sums(int(part.columns["row_count"].sum()), *amounts)


def is_loaded(period: date, rows: int) -> bool:
    """Both payers' `period` is stored with `rows` line items in all."""
    loaded = LoadedPeriod.objects.filter(billing_period_start=period)
    payers = set(loaded.values_list("billing_account_id", flat=True))
    return payers == {p for p, _, _ in PAYERS} and sum(lp.rows for lp in loaded) == rows


def load_month(world: Estate, period: date, rows: int) -> IngestJob:
    """Generate `period` and load it through the ingest's staging and publish code."""
    parts = month_rows(world, period, rows)
    descriptor = ROOT / ".local" / "bench" / f"explorer-rollup-{period:%Y-%m}-{rows}.json"
    descriptor.parent.mkdir(parents=True, exist_ok=True)
    about = {"seed": SEED, "period": f"{period}", "line_items": rows, "payers": PAYERS}
    descriptor.write_text(json.dumps({"generated_cost_rollup": about}))
    job = ingest_job_create(actor=None, paths=[descriptor], enqueue=False)
    # Held while it runs, as a worker holds it: others take a running job without its
    # claim for one whose process is gone, and drop its staging tables.
    with claimed("ingest", job.pk):
        job.status, job.started_at, job.attempts = IngestStatus.RUNNING, timezone.now(), 1
        job.formats, job.rows_total = ["generated cost rollup"], rows
        job.save()
        loads = _stage(world, period, parts, job.pk)
        publish_loads(job=job, loads=loads, tag_keys=summary_tag_keys())
        job.notes = register_seen_accounts(actor=None, loads=loads)
        job.rows_read = job.rows_stored = rows
        job.status, job.finished_at = IngestStatus.SUCCEEDED, timezone.now()
        job.message = f"Stored {period:%Y-%m} of payers {', '.join(p for p, _, _ in PAYERS)}."
        job.save()
    return job


def _stage(world: Estate, period: date, parts: list[PayerMonth], job_id: int) -> list[PeriodLoad]:
    """The staging tables of each payer's month, as an ingest that read them leaves them."""
    schema = connection.schema_name  # type: ignore[attr-defined]
    with side_connection(schema) as side:
        tag_sets = TagSetResolver(side)
        tag_ids = tag_sets.ids_for(pa.array(world.tag_texts, pa.string()))
        with transaction.atomic():
            cursor = raw_cursor()
            loader = StagingLoader(cursor, job_id=job_id, tag_sets=tag_sets)
            for part in parts:
                key = (f"{period}", PAYERS[part.payer][0])
                batch = NormalizedBatch(
                    table=STORE_SCHEMA.empty_table(),
                    rows_read=_sums(part).rows,
                    source_sums={key: _sums(part)},
                )
                loader.write(batch, groups=None)
            loads = list(loader.finish().values())
            for load, part in zip(loads, parts, strict=True):
                _fill(load, world, part, period, tag_ids, cursor)
            check_sums(loads)
    return loads


def _fill(
    load: PeriodLoad, world: Estate, part: PayerMonth, period: date, tag_ids: pa.Array, cursor: Any
) -> None:
    """What reading the payer's line items would have told the load, and its rollup."""
    payer_id, payer_name, _ = PAYERS[part.payer]
    load.stored = _sums(part)
    load.payer_names = {payer_name}
    load.currencies = {"USD"}
    mine = np.flatnonzero(world.account_payer == part.payer)
    load.accounts = {("AWS", world.accounts[i]): world.account_names[i] for i in mine}
    table = rollup_table(world, period, part, tag_ids)
    load.rollup_table = stage_rollup(
        cursor, period=f"{period}", payer=payer_id, line_items=load.table, rows=table
    )
