"""A cost spike planted in the demo's ACME bill, so that the anomaly monitor has something
true to find: the Data team's GPU training instances left running for three days."""

from __future__ import annotations

import csv
import gzip
import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

# Days before the demo's today when the instances ran (inclusive range).
SPIKE_DAYS_AGO = (9, 7)
SPIKE_TEAM_TAG = "ml"  # a value of the Data team
SPIKE_INSTANCE = "p3.8xlarge"
SPIKE_RATE = Decimal("12.2400000000")  # on-demand, per hour, us-east-1
SPIKE_INSTANCES = 2
SPIKE_ROWS = (SPIKE_DAYS_AGO[0] - SPIKE_DAYS_AGO[1] + 1) * 24 * SPIKE_INSTANCES


def spike_days(today: date) -> list[date]:
    first, last = SPIKE_DAYS_AGO
    return [today - timedelta(days=n) for n in range(first, last - 1, -1)]


def plant_spike(path: Path, *, period: date, until: date | None, today: date) -> int:
    """Add the spike's hourly line items to a legacy CUR file of `period` (delivered up to
    `until`) for its days that the bill covers; returns how many were added."""
    following = (period + timedelta(days=32)).replace(day=1)
    end = min(until or following, following)
    days = [d for d in spike_days(today) if period <= d < end]
    if not days:
        return 0
    with gzip.open(path, "rt", newline="") as source:
        reader = csv.DictReader(source)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    template = _template(rows)
    if template is None:
        return 0
    added = [
        _hour(template, day, hour, instance)
        for day in days
        for hour in range(24)
        for instance in range(SPIKE_INSTANCES)
    ]
    with gzip.open(path, "wt", newline="", compresslevel=6) as target:
        writer = csv.DictWriter(target, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        writer.writerows(added)
    return len(added)


def _template(rows: list[dict[str, str]]) -> dict[str, str] | None:
    """An on-demand EC2 instance hour of the team in us-east-1 to dress as the GPU hours."""
    for row in rows:
        if (
            row["lineItem/LineItemType"] == "Usage"
            and row["lineItem/UsageType"].startswith("BoxUsage:")
            and row["pricing/term"] == "OnDemand"
            and not row["savingsPlan/SavingsPlanARN"]
            and not row["reservation/ReservationARN"]
            and row["product/region"] == "us-east-1"
        ):
            return row
    return None


def _hour(template: dict[str, str], day: date, hour: int, instance: int) -> dict[str, str]:
    start = datetime(day.year, day.month, day.day, hour)
    stamp, following = (
        f"{start:%Y-%m-%dT%H:00:00Z}",
        f"{start + timedelta(hours=1):%Y-%m-%dT%H:00:00Z}",
    )
    identity = hashlib.sha256(f"spike {stamp} {instance}".encode()).hexdigest()[:52]
    rate = f"{SPIKE_RATE:.10f}"
    row = dict(template)
    row.update(
        {
            "identity/LineItemId": identity,
            "identity/TimeInterval": f"{stamp}/{following}",
            "lineItem/UsageStartDate": stamp,
            "lineItem/UsageEndDate": following,
            "lineItem/UsageType": f"BoxUsage:{SPIKE_INSTANCE}",
            "lineItem/ResourceId": f"i-0gpu{instance:012d}",
            "lineItem/UsageAmount": "1.0000000000",
            "lineItem/UnblendedRate": rate,
            "lineItem/UnblendedCost": rate,
            "lineItem/BlendedRate": rate,
            "lineItem/BlendedCost": rate,
            "lineItem/LineItemDescription": (
                f"${SPIKE_RATE.normalize()} per On Demand Linux {SPIKE_INSTANCE} Instance Hour"
            ),
            "product/instanceType": SPIKE_INSTANCE,
            "product/productFamily": "Compute Instance",
            "pricing/publicOnDemandCost": rate,
            "pricing/publicOnDemandRate": rate,
            "resourceTags/user:team": SPIKE_TEAM_TAG,
            "resourceTags/user:Team": "",
        }
    )
    return row
