"""GET /api/v1/ingests/<id>/ says how much money was rejected, in the page's words, and
per billing period and payer."""

from __future__ import annotations

import html
from pathlib import Path

from billing.models import IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from portal.users.models import User
from tests.billing.test_ingest_refusals import FOCUS, FOCUS_COST, PAYER, bill_text, ingest
from tests.conftest import Api, TenantClient


def test_the_detail_says_the_rejected_money_like_the_page(
    tenant_a: Tenant, client_a: TenantClient, admin_a: User, tmp_path: Path
) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(
        bill_text(FOCUS, [{}, {FOCUS_COST: "2"}, {FOCUS_COST: "2", "ChargeCategory": "Mystery"}])
    )
    job = ingest(path)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    admin = Api(client_a, admin_a)

    detail = admin.get(f"ingests/{job.pk}/").json()

    line = "Rejected 1 of 3 rows, worth 2 in BilledCost (36.4% of the files' 5.5)."
    assert detail["rejected_summary"] == line
    client_a.force_login(admin_a)
    assert line in html.unescape(client_a.get(f"/costs/ingests/{job.pk}/").content.decode())
    [period] = detail["period_sums"]
    assert (period["billing_account_id"], period["source_billed_cost"]) == (PAYER, "5.5")
    assert (period["stored_billed_cost"], period["rejected_billed_cost"]) == ("3.5", "2")


def test_a_queued_ingest_has_no_rejected_summary_yet(
    tenant_a: Tenant, client_a: TenantClient, admin_a: User, tmp_path: Path
) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(bill_text(FOCUS, [{}]))
    job = ingest_job_create(actor=None, paths=[path], enqueue=False)
    assert IngestJob.objects.get(pk=job.pk).status == IngestStatus.QUEUED

    detail = Api(client_a, admin_a).get(f"ingests/{job.pk}/").json()

    assert detail["rejected_summary"] is None
