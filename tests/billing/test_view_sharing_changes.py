"""Changing or answering a shared billing view: refusals on the field, nothing saved."""

from __future__ import annotations

from typing import Any

import pytest

from billing.models import (
    BillingView,
)
from billing.services import (
    billing_view_create,
    billing_view_update,
)
from tests.billing.helpers import audit_values, refused, unchanged
from tests.billing.test_view_sharing_rules import Estate, estate, view_entries
from tests.conftest import Api, TenantClient

pytestmark = pytest.mark.usefixtures("tenant_a")
__all__ = ["estate"]  # the fixture, used by name


@pytest.fixture
def shared(estate: Estate) -> BillingView:
    return billing_view_create(
        actor=estate.finance,
        name="Globex spend",
        payers=[estate.subsidiary_payer],
        shared_with=[estate.carl],
    )


@pytest.mark.parametrize(
    ("change", "code", "field", "named"),
    [
        ({"payers": ["acme_payer"]}, "not_the_customers", "payers", "111122223333"),
        (
            {"accounts": ["platform_prod"], "name": "More"},
            "not_the_customers",
            "accounts",
            "210000000001 (platform-prod)",
        ),
        ({"ous": ["engineering"]}, "not_the_customers", "ous", "in OU Engineering"),
        ({"payers": []}, "view_covers_everything", "payers", "'Globex spend' covers every"),
    ],
)
def test_changing_criteria_to_show_a_user_others_accounts_is_refused_on_that_field(
    estate: Estate, shared: BillingView, change: dict[str, Any], code: str, field: str, named: str
) -> None:
    data = {
        key: [getattr(estate, name) for name in value] if isinstance(value, list) else value
        for key, value in change.items()
    }
    entries = view_entries()

    with refused(code) as error:
        billing_view_update(actor=estate.finance, instance=shared, **data)

    assert error.value.field == field
    assert named in error.value.message
    assert unchanged(shared)
    assert view_entries() == entries


def test_criteria_within_the_customer_and_other_changes_are_saved_and_audited(
    estate: Estate, shared: BillingView
) -> None:
    billing_view_update(
        actor=estate.finance,
        instance=shared,
        name="Globex production",
        accounts=[estate.globex_prod],
        ous=[estate.workloads],
        tags={"env": ["prod"]},
    )

    stored = BillingView.objects.get(pk=shared.pk)
    assert stored.name == "Globex production"
    assert list(stored.accounts.all()) == [estate.globex_prod]
    before, after = audit_values("billingview.update")
    assert (before["ous"], after["ous"]) == ([], [estate.workloads.pk])


def test_once_unshared_the_view_may_show_anything(estate: Estate, shared: BillingView) -> None:
    billing_view_update(actor=estate.finance, instance=shared, shared_with=[estate.finance])
    billing_view_update(actor=estate.finance, instance=shared, payers=[estate.acme_payer])

    assert list(BillingView.objects.get(pk=shared.pk).payers.all()) == [estate.acme_payer]


# The API and the pages show the refusal


def test_the_api_answers_a_refused_share_with_a_400_naming_the_field(
    client_a: TenantClient, estate: Estate, shared: BillingView
) -> None:
    api = Api(client_a, estate.finance)

    created = api.post(
        "billing-views/",
        {"name": "Acme", "payers": [estate.acme_payer.pk], "shared_with": [estate.carl.pk]},
    )
    changed = api.patch(f"billing-views/{shared.pk}/", {"accounts": [estate.platform_prod.pk]})

    assert created.status_code == 400, created.content
    assert created.json() == {
        "code": "not_the_customers",
        "message": "Globex Ltd cannot be shown 111122223333 (acme-management): it is not "
        "Globex Ltd's.",
        "field": "shared_with",
    }
    assert changed.status_code == 400, changed.content
    assert changed.json()["field"] == "accounts"
    assert "210000000001 (platform-prod)" in changed.json()["message"]
    assert list(BillingView.objects.all()) == [shared]
    assert unchanged(shared)


def test_the_form_pages_show_a_refused_share_on_the_form(
    client_a: TenantClient, estate: Estate, shared: BillingView
) -> None:
    client_a.force_login(estate.finance)

    created = client_a.post(
        "/org/billing-views/new/",
        {"name": "Acme", "payers": [estate.acme_payer.pk], "shared_with": [estate.carl.pk]},
    )
    changed = client_a.post(
        f"/org/billing-views/{shared.pk}/edit/",
        {
            "name": "Globex spend",
            "payers": [estate.subsidiary_payer.pk],
            "ous": [estate.engineering.pk],
            "shared_with": [estate.carl.pk],
        },
    )

    assert created.status_code == 200
    assert "Globex Ltd cannot be shown 111122223333 (acme-management)" in created.text
    assert "shared_with" in created.context["form"].errors
    assert changed.status_code == 200
    assert "in OU Engineering" in changed.text
    assert "ous" in changed.context["form"].errors
    assert list(BillingView.objects.all()) == [shared]
    assert unchanged(shared)
