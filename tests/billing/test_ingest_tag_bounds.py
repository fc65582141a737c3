"""Tag text of a bill that nests too deep or holds numbers no store can keep: that row's
tags are dropped and reported by file, row and column, and its money is stored."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from billing.models import CostLineItem, IngestStatus
from portal.tenants.models import Tenant
from tests.billing.test_ingest_refusals import FOCUS, bill_text, ingest, stored


def nested(levels: int) -> str:
    return '{"team": ' + "[" * levels + '"web"' + "]" * levels + "}"


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        (nested(100_000), "nests more than 64 levels deep"),
        (nested(2_000), "nests more than 64 levels deep"),
        (nested(64), "nests more than 64 levels deep"),  # 65 with the object around it
        ('{"team": 1e999999}', "holds a number of more than 1000 digits"),
        ('{"team": ' + "9" * 5000 + "}", "holds a number of more than 1000 digits"),
    ],
    ids=["100000-deep", "2000-deep", "65-deep", "huge-exponent", "5000-digits"],
)
def test_tags_past_the_bounds_are_dropped_naming_file_row_and_column(
    tenant_a: Tenant, tmp_path: Path, tags: str, problem: str
) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(bill_text({**FOCUS, "Tags": '{"team": "web"}'}, [{}, {"Tags": tags}, {}]))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (3, Decimal("4.5"))
    issue = job.issues.get(column="Tags")
    assert (issue.file, issue.row, issue.kind) == ("focus.csv", 3, "interpreted")
    assert issue.message == f"Tags {problem}: the tags are dropped"
    untagged = CostLineItem.objects.filter(tag_set__isnull=True).count()
    assert untagged == 1


def test_tags_within_the_bounds_are_kept_exactly(tenant_a: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "focus.csv"
    kept = [nested(63), '{"team": 1e400, "cost": 0.10000000000000000001}']
    path.write_text(bill_text({**FOCUS, "Tags": ""}, [{"Tags": text} for text in kept]))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert not job.issues.filter(column="Tags").exists()
    with connection.cursor() as cursor:  # as text: Django would read the numbers as floats
        cursor.execute(
            "SELECT tags->>'team', tags->>'cost' FROM billing_tagset WHERE tags ? 'cost'"
        )
        team, cost = cursor.fetchone()
    assert Decimal(team) == Decimal("1e400")
    assert Decimal(cost) == Decimal("0.10000000000000000001")
