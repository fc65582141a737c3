"""Apps above billing hear of stored bills once the ingest committed."""

from __future__ import annotations

from typing import Any

import pytest

from billing.signals import bills_published
from tests.allocation.run_helpers import ingest, use_fake_files
from tests.billing.ingest_fakes import line


@pytest.mark.django_db(transaction=True)
def test_a_stored_bill_is_announced_with_its_month(
    tenant_a: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)
    heard: list[list[str]] = []

    def hear(sender: Any, months: list[str], **kwargs: Any) -> None:
        heard.append(months)

    bills_published.connect(hear, dispatch_uid="test.hear")
    try:
        ingest(files, [line(billed_cost="1.00")])
    finally:
        bills_published.disconnect(dispatch_uid="test.hear")
    assert [[m[:10] for m in months] for months in heard] == [["2026-01-01"]]
