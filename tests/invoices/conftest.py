from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billing.models import EndCustomer
from invoices.models import Invoice
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.users.models import Role, User
from tests.allocation.run_helpers import use_fake_files
from tests.billing.ingest_fakes import FakeFiles
from tests.conftest import Api, TenantClient, make_user
from tests.invoices.world import JAN, allocate, plan, seller, unit


@pytest.fixture
def files(tenant_a: Any, tmp_path: Path, monkeypatch: Any) -> FakeFiles:
    return use_fake_files(tmp_path, monkeypatch)


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def customer_user(tenant_a: Any) -> User:
    return make_user(Role.END_CUSTOMER, "gina-globex")


@pytest.fixture
def month(files: FakeFiles, customer_user: User) -> dict[str, Invoice]:
    """Globex (whose users see its invoices) issued; Initech drafted. Modules that need
    another month define their own `month`."""
    allocate(files)
    seller()
    globex = EndCustomer.objects.create(legal_name="Globex Incorporated")
    globex.viewers.add(customer_user)
    standard = plan(everything="10")
    unit("Globex", standard, end_customer=globex)
    unit("Initech", standard)
    invoice_drafts_create(period=JAN)
    issued = invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Globex"))
    return {"globex": issued, "initech": Invoice.objects.get(unit__value="Initech")}


@pytest.fixture
def finance(client_a: TenantClient) -> Api:
    return Api(client_a, make_user(Role.FINANCE))
