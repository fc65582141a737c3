"""What the allocation pages tell a new user: how categories are added, which month to start."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from allocation.models import CostCategory
from allocation.services import cost_category_create
from portal.users.models import Role
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")


def page(client: TenantClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def test_an_admin_with_no_categories_is_pointed_at_the_new_category_button(
    admin_client_a: TenantClient,
) -> None:
    shown = page(admin_client_a, "/allocation/")

    assert "New category</a>" in shown
    assert "Add one with “New category” above" in shown
    assert "An admin adds them" not in shown


def test_finance_with_no_categories_is_told_an_admin_adds_them(client_a: TenantClient) -> None:
    client_a.force_login(make_user(Role.FINANCE, "fin-polish"))

    shown = page(client_a, "/allocation/")

    assert "No cost categories yet. An admin adds them" in shown
    assert "New category" not in shown and "/api/v1/cost-categories/" not in shown


def test_a_new_version_starts_on_the_latest_month_with_loaded_costs(
    admin_client_a: TenantClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    category: CostCategory = cost_category_create(actor=None, name="Team", default_value="")
    form_path = f"/allocation/categories/{category.pk}/versions/new/"
    this_month = f"{timezone.now():%Y-%m}"
    assert f'name="effective_month" value="{this_month}"' in page(admin_client_a, form_path)

    files = use_fake_files(tmp_path, monkeypatch)
    ingest(files, [line(billed_cost="2")])  # January 2026

    shown = page(admin_client_a, form_path)
    assert 'name="effective_month" value="2026-01"' in shown


def test_results_and_explanations_show_cents_with_the_currency_and_keep_every_digit(
    admin_client_a: TenantClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = use_fake_files(tmp_path, monkeypatch)
    ingest(
        files,
        [
            line(service_name="Amazon S3", billed_cost="1234.5678901234"),
            line(service_name="Amazon EC2", billed_cost="0.0000000001"),
        ],
    )
    category = category_with("Team", [regular("Web", cond("service", "equals", "Amazon S3"))])
    allocation = run(category)

    results = page(admin_client_a, f"/allocation/runs/{allocation.pk}/")
    explained = page(admin_client_a, f"/allocation/runs/{allocation.pk}/explain/?value=Web")

    for shown in (results, explained):
        assert "BilledCost (USD)" in shown
        assert '<td class="num" title="1234.5678901234">1,234.57</td>' in shown
    assert '<td class="num" title="0.0000000001">0.00</td>' in results  # Unallocated
