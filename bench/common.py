"""What the benchmarks share: Django set-up, the bench tenant, its generated CUR month."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from django_tenants.utils import schema_context

from billing.ingest.pipeline import run_ingest
from billing.models import IngestStatus, LoadedPeriod, TagKey
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from portal.tenants.services import tenant_create

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench"
PERIOD = date(2026, 1, 1)
PAYER = "999900001111"


def bill_file(rows: int, fmt: str = "csv.gz") -> Path:
    """A generated CUR month of `rows` rows (made once, then reused)."""
    path = ROOT / ".local" / "bench" / f"cur-{rows}.{fmt}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"Generating {rows:,} CUR rows into {path} ...", flush=True)
        command = ["cur", "--rows", str(rows), "--period", f"{PERIOD:%Y-%m}", "--payer", PAYER]
        subprocess.run(
            [sys.executable, "-m", "billing.generator", *command, "--format", fmt, "--out", path],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    return path


def ensure_tenant(
    schema: str = SCHEMA,
    name: str = "Benchmark",
    domain: str = "bench.localhost",
    admin_email: str = "bench@example.com",
    password: str = "bench-Portal-2026",
) -> None:
    """A bench tenant with the tag keys the generated bills use."""
    if not Tenant.objects.filter(schema_name=schema).exists():
        tenant_create(
            actor=None,
            schema=schema,
            name=name,
            domain=domain,
            admin_email=admin_email,
            admin_password=password,
        )
    with schema_context(schema):
        for key in ("team", "env", "cost-center"):
            TagKey.objects.get_or_create(name=key)


def ensure_loaded(rows: int) -> None:
    """The generated month of `rows` rows is what is stored (ingested inline if not)."""
    loaded = LoadedPeriod.objects.filter(billing_period_start=PERIOD, billing_account_id=PAYER)
    if loaded.filter(rows=rows).exists():
        return
    path = bill_file(rows)
    print(f"Ingesting {path.name} ...", flush=True)
    job = ingest_job_create(actor=None, paths=[path], enqueue=False)
    job = run_ingest(job.pk)
    if job.status != IngestStatus.SUCCEEDED:
        sys.exit(f"Ingest ended {job.status}: {job.message}")


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
