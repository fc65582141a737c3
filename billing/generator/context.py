"""Everything one generated bill shares: accounts, price list, resources, commitments, times.

Built once per bill from the seed, in plain Python (a few thousand entries); the bulk rows
only index into these tables.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from billing.generator import catalog as cat
from billing.generator.products import FIELDS, MAP_TYPE, Products, build_products

MIN_POOL, MAX_POOL = 200, 20_000  # resources per bill
ROWS_PER_RESOURCE = 150


@dataclass(frozen=True)
class Commitment:
    arn: str
    account: int  # index of the owning account
    rate: int  # hourly commitment or recurring fee, in units
    discount_bp: int
    purchase_option: str
    upfront: int  # upfront fee bought this month, in units (0 for none)
    region: int  # index into REGIONS (-1 for any)
    item: int  # the instance item a reservation applies to (-1 for a savings plan)


@dataclass(frozen=True)
class Resources:
    """The resource pool; index `none` (the pool's size) is "no resource": null id, no tags."""

    account: np.ndarray
    item: np.ndarray
    region: np.ndarray
    combo: np.ndarray  # item * len(REGIONS) + region
    size: np.ndarray  # GB for storage items
    weight: np.ndarray  # probability of a row being about the resource
    sp: np.ndarray  # covering savings plan or -1
    ri: np.ndarray  # covering reservation or -1
    resource_id: pa.Array
    az: pa.Array
    tags: dict[str, pa.Array]  # legacy CUR tag key (`user:team`) -> values
    tags_json: pa.Array  # CUR 2.0 keys (`user_team`)
    tags_map: pa.Array
    focus_tags_json: pa.Array  # FOCUS keys (`team`, `aws:createdBy`)
    focus_tags_map: pa.Array

    @property
    def none(self) -> int:
        return len(self.weight)


@dataclass(frozen=True)
class BillContext:
    period: date
    period_end: date
    hours: int
    usage_hours: int  # usage starts in the first `usage_hours` hours (all, but mid-month)
    payer_id: str
    seed: int
    account_ids: pa.Array
    account_names: pa.Array
    cost_category_json: pa.Array  # per account
    cost_category_map: pa.Array
    savings_plans: tuple[Commitment, ...]
    reservations: tuple[Commitment, ...]
    products: Products
    combo_text: dict[str, pa.Array]  # products.FIELDS -> value per combo
    descriptions: pa.Array  # per combo * N_KINDS + kind
    product_json: pa.Array  # CUR 2.0 `product` per combo
    product_map: pa.Array
    rates: np.ndarray  # per catalog combo, in units
    resources: Resources
    hour_text: pa.Array  # "2026-01-01T05:00:00Z" for hour offsets 0..hours

    @property
    def period_key(self) -> str:
        return self.period.isoformat()

    def invoice_id(self) -> str:
        return f"{self.period:%Y%m}{int(self.payer_id) % 100000:05d}"


def build_context(
    *,
    period: date,
    payer_id: str,
    seed: int,
    rows: int,
    until: date | None = None,
    accounts: Sequence[tuple[str, str]] | None = None,
) -> BillContext:
    """The shared tables of a bill of about `rows` rows (the resource pool grows with it).

    The accounts, commitments and resources are the payer's whatever the month, as in a
    real estate; only the usage (rows.py) differs from month to month. `accounts`, if
    given, are the usage accounts' (id, name) in the order of catalog.ACCOUNT_NAMES, the
    payer first. With `until`, the bill is one delivered mid-month: usage only before
    that day.
    """
    if period.day != 1:
        raise ValueError(f"period must be the first day of a month, not {period}")
    if not (len(payer_id) == 12 and payer_id.isdigit()):
        raise ValueError(f"payer_id must be 12 digits, not {payer_id!r}")
    if seed < 0:
        raise ValueError("seed must not be negative")
    days = calendar.monthrange(period.year, period.month)[1]
    period_end = period + timedelta(days=days)
    if until is not None and until <= period:
        raise ValueError(f"until must be after the period's first day, not {until}")
    usage_days = days if until is None else min(days, (until - period).days)
    rng = np.random.default_rng([seed, int(payer_id)])
    # Drawn even when given, so that the rest of the estate is the same either way.
    account_ids = _account_ids(rng, payer_id)
    names = [f"acme-{name}" for name in cat.ACCOUNT_NAMES]
    if accounts is not None:
        account_ids, names = _given_accounts(accounts, payer_id), [n for _, n in accounts]
    start = datetime(period.year, period.month, 1)
    hour_text = [f"{start + timedelta(hours=h):%Y-%m-%dT%H:00:00Z}" for h in range(days * 24 + 1)]
    categories = [{"business_unit": unit} for unit in cat.BUSINESS_UNITS]
    sps, ris = _commitments(rng, payer_id)
    products = build_products(payer_id, sps, ris)
    product_json, product_map = products.product_maps()
    return BillContext(
        period=period,
        period_end=period_end,
        hours=days * 24,
        usage_hours=usage_days * 24,
        payer_id=payer_id,
        seed=seed,
        account_ids=pa.array(account_ids),
        account_names=pa.array(names),
        cost_category_json=pa.array([_json(c) for c in categories]),
        cost_category_map=pa.array([list(c.items()) for c in categories], MAP_TYPE),
        savings_plans=sps,
        reservations=ris,
        products=products,
        combo_text={name: products.text(name) for name in FIELDS},
        descriptions=products.description_table(),
        product_json=product_json,
        product_map=product_map,
        rates=np.array(products.rates, dtype=np.int64),
        resources=_resources(rng, account_ids, ris, pool_size(rows)),
        hour_text=pa.array(hour_text),
    )


def pool_size(rows: int) -> int:
    return min(MAX_POOL, max(MIN_POOL, rows // ROWS_PER_RESOURCE))


def _account_ids(rng: np.random.Generator, payer_id: str) -> list[str]:
    ids = [payer_id]
    for n in rng.integers(10**11, 10**12, size=len(cat.ACCOUNT_NAMES) - 1):
        ids.append(str(int(n)))
    ids[1] = "0" + ids[1][1:]  # account ids may start with 0: readers must keep them text
    return ids


def _given_accounts(accounts: Sequence[tuple[str, str]], payer_id: str) -> list[str]:
    ids = [account_id for account_id, _ in accounts]
    if len(ids) != len(cat.ACCOUNT_NAMES):
        raise ValueError(f"accounts must be {len(cat.ACCOUNT_NAMES)}, not {len(ids)}")
    if ids[0] != payer_id:
        raise ValueError("the first account must be the payer")
    if any(not (len(i) == 12 and i.isdigit()) for i in ids) or len(set(ids)) != len(ids):
        raise ValueError("accounts must be distinct 12-digit ids")
    return ids


def _commitments(
    rng: np.random.Generator, payer_id: str
) -> tuple[tuple[Commitment, ...], tuple[Commitment, ...]]:
    def uuid() -> str:
        h = "".join(f"{b:02x}" for b in rng.bytes(16))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    sps = tuple(
        Commitment(
            f"arn:aws:savingsplans::{payer_id}:savingsplan/{uuid()}", 0, cat.units(rate), bp,
            option, cat.units(upfront or "0"), -1, -1,
        )
        for _kind, rate, bp, option, upfront in cat.SAVINGS_PLANS
    )  # fmt: skip
    region_codes = [r.code for r in cat.REGIONS]
    item_types = [item.instance_type for item in cat.ITEMS]
    ris = []
    for instance_type, region, fee, bp, option, upfront in cat.RESERVATIONS:
        service = "rds" if instance_type.startswith("db.") else "ec2"
        name = f"ri:ri-{uuid()}" if service == "rds" else f"reserved-instances/{uuid()}"
        arn = f"arn:aws:{service}:{region}:{payer_id}:{name}"
        ris.append(
            Commitment(
                arn, 0, cat.units(fee), bp, option, cat.units(upfront or "0"),
                region_codes.index(region), item_types.index(instance_type),
            )
        )  # fmt: skip
    return sps, tuple(ris)


def _json(mapping: dict[str, str]) -> str:
    return json.dumps(mapping, separators=(",", ":"), ensure_ascii=False)


def _resources(
    rng: np.random.Generator, account_ids: list[str], ris: tuple[Commitment, ...], n: int
) -> Resources:
    n_regions = len(cat.REGIONS)
    item_w = np.array([item.weight for item in cat.ITEMS], dtype=float)
    region_w = np.array([r.weight for r in cat.REGIONS], dtype=float)
    account_w = np.array(cat.ACCOUNT_WEIGHTS, dtype=float)
    item = rng.choice(len(cat.ITEMS), size=n, p=item_w / item_w.sum())
    region = rng.choice(n_regions, size=n, p=region_w / region_w.sum())
    account = rng.choice(len(account_ids), size=n, p=account_w / account_w.sum())
    lo = np.array([i.qty_range[0] for i in cat.ITEMS])[item]
    hi = np.array([i.qty_range[1] for i in cat.ITEMS])[item]
    size = np.exp(rng.uniform(np.log(np.maximum(lo, 1)), np.log(np.maximum(hi, 1)))).astype(int)
    weight = 1.0 / (np.arange(n) + n / 10)  # some resources are busier than others
    sp = np.full(n, -1)
    ri = np.full(n, -1)
    cover = rng.random(n)
    for i in range(n):
        it = cat.ITEMS[item[i]]
        if "ri" in it.commitment and cover[i] < 0.3:
            for j, r in enumerate(ris):
                if r.item == item[i]:
                    ri[i], region[i] = j, r.region
        elif "sp" in it.commitment and cover[i] < 0.55:
            sp[i] = 0 if it.instance_type == "" or cover[i] < 0.4 else 1
    ids, azs, tags = [], [], []
    for i in range(n):
        it, rg = cat.ITEMS[item[i]], cat.REGIONS[region[i]]
        ids.append(_resource_id(rng, it.resource, rg.code, account_ids[account[i]], i))
        azs.append(rg.code + "abc"[rng.integers(3)] if it.zonal else None)
        tags.append(_tags(rng) if it.resource else {})
    ids.append(None)
    azs.append(None)
    tags.append({})
    legacy_keys = ("user:team", "user:Team", "user:env", "user:cost-center", "aws:createdBy")
    cur2 = [{cat.snake_case(k): v for k, v in t.items()} for t in tags]
    focus = [{k.removeprefix("user:"): v for k, v in t.items()} for t in tags]
    return Resources(
        account=account,
        item=item,
        region=region,
        combo=item * n_regions + region,
        size=size,
        weight=weight / weight.sum(),
        sp=sp,
        ri=ri,
        resource_id=pa.array(ids, pa.string()),
        az=pa.array(azs, pa.string()),
        tags={key: pa.array([t.get(key) for t in tags], pa.string()) for key in legacy_keys},
        tags_json=pa.array([_json(t) for t in cur2]),
        tags_map=pa.array([list(t.items()) for t in cur2], MAP_TYPE),
        focus_tags_json=pa.array([_json(t) for t in focus]),
        focus_tags_map=pa.array([list(t.items()) for t in focus], MAP_TYPE),
    )


def _resource_id(
    rng: np.random.Generator, kind: str, region: str, account: str, i: int
) -> str | None:
    hex17 = "".join(f"{b:02x}" for b in rng.bytes(9))[:17]
    name = f"{cat.TEAMS[i % len(cat.TEAMS)]}-{['api', 'etl', 'db', 'cache', 'jobs'][i % 5]}-{i}"
    return {
        "instance": f"i-{hex17}",
        "volume": f"vol-{hex17}",
        "snapshot": f"arn:aws:ec2:{region}:{account}:snapshot/snap-{hex17}",
        "natgw": f"arn:aws:ec2:{region}:{account}:natgateway/nat-{hex17}",
        "bucket": f"acme-{name}",
        "lambda": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "rds": f"arn:aws:rds:{region}:{account}:db:{name}",
        "": None,
    }[kind]


def _tags(rng: np.random.Generator) -> dict[str, str]:
    tags: dict[str, str] = {}
    if rng.random() >= cat.UNTAGGED_SHARE:
        team = int(rng.integers(len(cat.TEAMS)))
        key = "user:Team" if rng.random() < cat.TEAM_ALIAS_SHARE else "user:team"
        tags[key] = cat.TEAMS[team]
        if rng.random() >= cat.NO_ENV_SHARE:
            tags["user:env"] = cat.ENVS[int(rng.integers(len(cat.ENVS)))]
        tags["user:cost-center"] = cat.COST_CENTERS[team % len(cat.COST_CENTERS)]
    if rng.random() < cat.CREATED_BY_SHARE:
        tags["aws:createdBy"] = cat.CREATORS[int(rng.integers(len(cat.CREATORS)))]
    return tags
