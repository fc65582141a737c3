"""The store: staged COPY, atomic replacement per period and payer, exact sums."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from billing.ingest import pipeline
from billing.ingest.contract import BillFileError
from billing.ingest.staging import STAGE_PREFIX, StagingLoader
from billing.models import (
    Account,
    CostCube,
    CostLineItem,
    DailyTagCost,
    IngestJob,
    IngestStatus,
    LoadedPeriod,
    Organization,
    TagKey,
)
from billing.models.cubes import DAILY_GRAINS, MONTHLY_GRAIN, TAG_GRAINS
from billing.services.ingests import ingest_job_create
from portal.audit.models import AuditEntry
from portal.tenants.models import Tenant
from tests.billing.ingest_fakes import PAYER, PERIOD, FakeFiles, batch, line


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    fake = FakeFiles(tmp_path)
    monkeypatch.setattr(pipeline, "open_bill", fake.open_bill)
    return fake


def ingest(*paths: Path) -> IngestJob:
    job = ingest_job_create(actor=None, paths=paths, enqueue=False)
    return pipeline.run_ingest(job.pk)


def stored_total(payer: str = PAYER) -> Decimal:
    rows = CostLineItem.objects.filter(billing_account_id=payer)
    return rows.aggregate(total=Sum("billed_cost"))["total"] or Decimal(0)


def staging_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE %s",
            [STAGE_PREFIX + "%"],
        )
        return [name for (name,) in cursor.fetchall()]


def test_rows_are_stored_exactly_with_sums_that_reconcile(
    tenant_a: Tenant, files: FakeFiles
) -> None:
    TagKey.objects.create(name="team")
    path = files.add(
        "jan.csv",
        batch(
            [
                line(billed_cost="0.0000001234", effective_cost="0", tags='{"team": "web"}'),
                line(billed_cost="10.10", effective_cost="9.99", service_name="Amazon S3"),
            ]
        ),
        batch([line(billed_cost="-2.5", effective_cost="-2.5", charge_category="Credit")]),
    )
    job = ingest(path)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert (job.rows_read, job.rows_stored, job.rows_rejected) == (3, 3, 0)
    assert stored_total() == Decimal("7.6000001234")
    period_sum = job.period_sums.get()
    assert period_sum.source_billed_cost == Decimal("7.6000001234")
    assert period_sum.stored_billed_cost == period_sum.source_billed_cost
    assert period_sum.stored_effective_cost == Decimal("7.49")
    assert period_sum.reconciled
    # Daily summaries add up to the same totals, per dimension.
    for grain in (*DAILY_GRAINS, MONTHLY_GRAIN):
        cube = CostCube.objects.filter(grain=grain)
        assert cube.aggregate(t=Sum("billed_cost"))["t"] == Decimal("7.6000001234"), grain
    for grain in TAG_GRAINS:
        tagged = DailyTagCost.objects.filter(grain=grain, tag_key="team")
        assert tagged.aggregate(t=Sum("billed_cost"))["t"] == Decimal("7.6000001234"), grain
    web = DailyTagCost.objects.get(grain="tag", tag_key="team", tag_value="web")
    assert web.billed_cost == Decimal("0.0000001234")
    untagged = DailyTagCost.objects.filter(grain="tag", tag_key="team", tag_value=None)
    assert untagged.aggregate(t=Sum("billed_cost"))["t"] == Decimal("7.6")
    item = CostLineItem.objects.select_related("tag_set").get(billed_cost=Decimal("0.0000001234"))
    assert item.tag_set is not None and item.tag_set.tags == {"team": "web"}
    assert staging_tables() == []


def test_redelivering_a_period_replaces_it_for_that_payer_only(
    tenant_a: Tenant, files: FakeFiles
) -> None:
    other = "444455556666"
    first = files.add(
        "jan-v1.csv",
        batch([line(billed_cost="5"), line(billed_cost="7", billing_account_id=other)]),
    )
    assert ingest(first).status == IngestStatus.SUCCEEDED
    second = files.add("jan-v2.csv", batch([line(billed_cost="6"), line(billed_cost="0.5")]))
    job = ingest(second)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored_total() == Decimal("6.5")
    assert stored_total(other) == Decimal("7")
    assert LoadedPeriod.objects.get(billing_account_id=PAYER).job == job
    totals = CostCube.objects.filter(grain="month", billing_account_id=PAYER)
    assert totals.aggregate(t=Sum("billed_cost"))["t"] == Decimal("6.5")


def test_loading_the_same_files_again_changes_nothing(tenant_a: Tenant, files: FakeFiles) -> None:
    path = files.add("jan.csv", batch([line(billed_cost="5")]))
    first = ingest(path)
    ids = list(CostLineItem.objects.values_list("id", flat=True))
    again = ingest(path)
    assert again.status == IngestStatus.UNCHANGED
    assert list(CostLineItem.objects.values_list("id", flat=True)) == ids
    assert LoadedPeriod.objects.get().job == first


def test_a_failing_ingest_keeps_the_previous_data(tenant_a: Tenant, files: FakeFiles) -> None:
    assert ingest(files.add("jan-v1.csv", batch([line(billed_cost="5")]))).status == "succeeded"
    broken = files.add(
        "jan-v2.csv.gz",
        batch([line(billed_cost="99")]),
        BillFileError("jan-v2.csv.gz", "the gzip stream is truncated", row=1201),
    )
    job = ingest(broken)
    assert job.status == IngestStatus.FAILED
    assert job.message == "jan-v2.csv.gz, row 1201: the gzip stream is truncated"
    assert stored_total() == Decimal("5")
    assert staging_tables() == []


def test_sums_that_do_not_reconcile_publish_nothing(tenant_a: Tenant, files: FakeFiles) -> None:
    wrong = batch([line(billed_cost="5")])
    wrong.source_sums[(PERIOD, PAYER)].billed_cost = Decimal("5.01")
    job = ingest(files.add("jan.csv", wrong))
    assert job.status == IngestStatus.FAILED
    assert "BilledCost is 5.01, but 5 was stored and 0 rejected" in job.message
    assert not CostLineItem.objects.exists()


def test_rejected_rows_are_reported_apart_and_reconcile(tenant_a: Tenant, files: FakeFiles) -> None:
    job = ingest(
        files.add("jan.csv", batch([line(billed_cost="5")], rejected=[line(billed_cost="3")]))
    )
    assert job.status == IngestStatus.SUCCEEDED
    period_sum = job.period_sums.get()
    assert (period_sum.source_billed_cost, period_sum.stored_billed_cost) == (8, 5)
    assert period_sum.rejected_billed_cost == 3
    assert job.rows_rejected == 1


def test_readers_see_the_old_data_until_the_new_is_published(
    tenant_a: Tenant, files: FakeFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(files.add("jan-v1.csv", batch([line(billed_cost="5")])))
    seen: list[Decimal] = []
    write = StagingLoader.write

    def write_and_look(self: StagingLoader, *args: Any) -> None:
        write(self, *args)
        seen.append(stored_total())  # part of the new month is copied by now

    monkeypatch.setattr(StagingLoader, "write", write_and_look)
    ingest(files.add("jan-v2.csv", batch([line(billed_cost="1")]), batch([line(billed_cost="2")])))
    assert seen == [Decimal("5"), Decimal("5")]
    assert stored_total() == Decimal("3")


def test_new_payers_and_accounts_are_registered(tenant_a: Tenant, files: FakeFiles) -> None:
    rows = [
        line(
            billing_account_name="Globex payer",
            sub_account_id="330000000001",
            sub_account_name="globex-prod",
        ),
        line(billing_account_name="Globex payer", sub_account_id=PAYER, sub_account_name=""),
    ]
    job = ingest(files.add("jan.csv", batch(rows)))
    organization = Organization.objects.get(management_account__account_id=PAYER)
    assert organization.name == "Globex payer"
    member = Account.objects.get(account_id="330000000001")
    assert (member.name, member.organization) == ("globex-prod", organization)
    assert "Registered 2 new account(s): 111122223333, 330000000001." in job.notes
    assert AuditEntry.objects.filter(action="account.create", object_id=str(member.pk)).exists()


def test_summaries_are_exact_when_amounts_have_more_digits_than_the_fast_path_holds(
    tenant_a: Tenant, files: FakeFiles
) -> None:
    tiny = "0.0000000000000000000123"  # 22 decimal places: grouped in SQL instead
    job = ingest(files.add("jan.csv", batch([line(billed_cost=tiny), line(billed_cost="2")])))
    assert job.status == IngestStatus.SUCCEEDED, job.message
    totals = CostCube.objects.filter(grain="day")
    assert totals.aggregate(t=Sum("billed_cost"))["t"] == Decimal("2") + Decimal(tiny)


def test_a_second_delivery_of_a_running_ingest_leaves_it_to_the_first(
    tenant_a: Tenant, files: FakeFiles
) -> None:
    job = ingest_job_create(
        actor=None, paths=[files.add("jan.csv", batch([line()]))], enqueue=False
    )
    with pipeline.side_connection("alpha") as other:
        other.execute("SELECT pg_advisory_lock(hashtext('alpha:ingest'), %s)", (job.pk,))
        assert pipeline.run_ingest(job.pk).status == IngestStatus.QUEUED
    assert pipeline.run_ingest(job.pk).status == IngestStatus.SUCCEEDED
