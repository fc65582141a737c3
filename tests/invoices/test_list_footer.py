"""What the invoice list's footer tells an end customer about the rows it sums."""

from __future__ import annotations

from invoices.models import Invoice
from portal.users.models import User
from tests.conftest import TenantClient


def test_an_end_customers_list_footer_speaks_of_issued_invoices_only(
    client_a: TenantClient, customer_user: User, month: dict[str, Invoice]
) -> None:
    client_a.force_login(customer_user)

    response = client_a.get("/invoices/")
    assert response.status_code == 200
    listed = response.content.decode()

    assert "1 invoice in" in listed and "issued ones only" in listed
    assert "drafts and issued" not in listed
