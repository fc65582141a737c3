"""Billing views shared with end customers show only their own customer's accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    Organization,
    OrganizationalUnit,
    TransferStatus,
)
from billing.services import (
    account_create,
    billing_view_create,
    billing_view_update,
    end_customer_create,
    organization_create,
    ou_create,
)
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.billing.helpers import audit_values, refused, unchanged
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("tenant_a")


@dataclass
class Estate:
    """Acme's organization and its subsidiary's, billed to Globex Ltd, as in the demo."""

    finance: User
    acme_payer: Account
    platform_prod: Account
    web_frontend: Account
    engineering: OrganizationalUnit
    subsidiary_payer: Account
    globex_prod: Account
    workloads: OrganizationalUnit
    globex: EndCustomer
    carl: User  # sees Globex Ltd
    initech: EndCustomer
    ian: User  # sees Initech, which is billed for Acme's web-frontend only


def payer(org: Organization) -> Account:
    assert org.management_account is not None
    return org.management_account


@pytest.fixture
def estate(admin_a: User) -> Estate:
    acme = organization_create(
        actor=admin_a,
        name="Acme Management",
        management_account_id="111122223333",
        management_account_name="acme-management",
    )
    engineering = ou_create(actor=admin_a, organization=acme, name="Engineering")
    platform = ou_create(actor=admin_a, organization=acme, name="Platform", parent=engineering)
    subsidiary = organization_create(
        actor=admin_a,
        name="Acme Subsidiary",
        management_account_id="444455556666",
        management_account_name="acme-subsidiary",
    )
    workloads = ou_create(actor=admin_a, organization=subsidiary, name="Workloads")

    def account(account_id: str, name: str, org: Organization, ou: Any) -> Account:
        return account_create(
            actor=admin_a, account_id=account_id, name=name, organization=org, ou=ou
        )

    platform_prod = account("210000000001", "platform-prod", acme, platform)
    web_frontend = account("210000000005", "web-frontend", acme, engineering)
    globex_prod = account("440000000001", "globex-prod", subsidiary, workloads)
    account("440000000002", "globex-dev", subsidiary, workloads)
    carl = make_user(Role.END_CUSTOMER, "customer")
    ian = make_user(Role.END_CUSTOMER, "ian")
    globex = end_customer_create(
        actor=admin_a, legal_name="Globex Ltd", payers=[payer(subsidiary)], viewers=[carl]
    )
    initech = end_customer_create(
        actor=admin_a, legal_name="Initech", accounts=[web_frontend], viewers=[ian]
    )
    return Estate(
        finance=make_user(Role.FINANCE, "finance"),
        acme_payer=payer(acme),
        platform_prod=platform_prod,
        web_frontend=web_frontend,
        engineering=engineering,
        subsidiary_payer=payer(subsidiary),
        globex_prod=globex_prod,
        workloads=workloads,
        globex=globex,
        carl=carl,
        initech=initech,
        ian=ian,
    )


def view_entries() -> int:
    return AuditEntry.objects.filter(object_type="billing.BillingView").count()


# Sharing a view with an end customer


def test_a_view_of_the_customers_payer_accounts_and_ous_is_shared_with_its_user(
    estate: Estate,
) -> None:
    view = billing_view_create(
        actor=estate.finance,
        name="Globex spend",
        payers=[estate.subsidiary_payer],
        accounts=[estate.globex_prod],
        ous=[estate.workloads],
        services=["Amazon EC2"],
        shared_with=[estate.carl, estate.finance],
    )

    assert set(BillingView.objects.get(pk=view.pk).shared_with.all()) == {
        estate.carl,
        estate.finance,
    }
    assert audit_values("billingview.create")[1]["shared_with"] == sorted(
        [estate.carl.pk, estate.finance.pk]
    )
    assert list(BillingView.objects.visible_to(estate.carl)) == [view]


def test_sharing_a_view_of_other_accounts_names_each_that_is_not_the_customers(
    estate: Estate,
) -> None:
    entries = view_entries()

    with refused("not_the_customers") as error:
        billing_view_create(
            actor=estate.finance,
            name="Mixed",
            payers=[estate.acme_payer, estate.subsidiary_payer],
            accounts=[estate.platform_prod, estate.globex_prod],
            shared_with=[estate.carl],
        )

    assert error.value.message == (
        "Globex Ltd cannot be shown 111122223333 (acme-management), 210000000001 "
        "(platform-prod): they are not Globex Ltd's."
    )
    assert error.value.field == "shared_with"
    assert not BillingView.objects.exists()
    assert view_entries() == entries


def test_a_view_limited_to_nothing_covers_every_account_and_is_refused(estate: Estate) -> None:
    with refused("view_covers_everything") as error:
        billing_view_create(
            actor=estate.finance,
            name="Everything",
            services=["Amazon S3"],
            shared_with=[estate.carl],
        )

    assert "'Everything' covers every account" in error.value.message
    assert "limit the view to Globex Ltd's accounts or payers first" in error.value.message
    assert error.value.field == "shared_with"
    assert not BillingView.objects.exists()
    # Tenant-wide readers may still get a view of everything.
    billing_view_create(actor=estate.finance, name="Everything", shared_with=[estate.finance])


def test_an_ou_is_the_customers_only_if_every_account_in_it_and_below_is(
    estate: Estate,
) -> None:
    # Initech owns web-frontend, directly in Engineering, but not platform-prod below it.
    with refused("not_the_customers") as error:
        billing_view_create(
            actor=estate.finance, name="Eng", ous=[estate.engineering], shared_with=[estate.ian]
        )

    assert error.value.message == (
        "Initech cannot be shown 210000000001 (platform-prod) in OU Engineering: it is not "
        "Initech's."
    )
    billing_view_create(
        actor=estate.finance, name="Web", accounts=[estate.web_frontend], shared_with=[estate.ian]
    )


def test_a_payer_is_the_customers_only_if_its_whole_organization_is(
    admin_a: User, estate: Estate
) -> None:
    hooli = make_user(Role.END_CUSTOMER, "hank")
    end_customer_create(
        actor=admin_a, legal_name="Hooli", accounts=[estate.acme_payer], viewers=[hooli]
    )

    with refused("not_the_customers") as error:
        billing_view_create(
            actor=estate.finance, name="Acme", payers=[estate.acme_payer], shared_with=[hooli]
        )

    assert "Hooli cannot be shown 111122223333 (acme-management)" in error.value.message
    billing_view_create(
        actor=estate.finance, name="Payer", accounts=[estate.acme_payer], shared_with=[hooli]
    )


def test_a_payer_shows_the_bills_it_pays_for_other_organizations_too(
    admin_a: User, estate: Estate
) -> None:
    # Hooli's organization is not Globex's, but its bill is paid by Globex's payer.
    hooli = organization_create(
        actor=admin_a,
        name="Hooli",
        management_account_id="777788889999",
        management_account_name="hooli-payer",
    )
    transfer = BillingTransfer.objects.create(
        source=payer(hooli),
        destination=estate.subsidiary_payer,
        status=TransferStatus.PENDING,
        start_date=date(2026, 1, 1),
    )
    # An invitation moves no bill yet.
    billing_view_create(
        actor=estate.finance,
        name="Globex",
        payers=[estate.subsidiary_payer],
        shared_with=[estate.carl],
    )
    BillingTransfer.objects.filter(pk=transfer.pk).update(status=TransferStatus.ACCEPTED)

    with refused("not_the_customers") as error:
        billing_view_create(
            actor=estate.finance,
            name="Globex again",
            payers=[estate.subsidiary_payer],
            shared_with=[estate.carl],
        )

    assert error.value.message == (
        "Globex Ltd cannot be shown 777788889999 (hooli-payer), whose bill 444455556666 "
        "(acme-subsidiary) pays: it is not Globex Ltd's."
    )


def test_an_end_customer_user_of_no_customer_gets_no_view(estate: Estate) -> None:
    loner = make_user(Role.END_CUSTOMER, "loner")

    with refused("no_end_customer") as error:
        billing_view_create(
            actor=estate.finance,
            name="Globex",
            payers=[estate.subsidiary_payer],
            shared_with=[loner],
        )

    assert "loner is an end-customer user of no end customer" in error.value.message


# One customer per view


def test_a_view_shared_with_one_customer_is_not_shared_with_another(estate: Estate) -> None:
    view = billing_view_create(
        actor=estate.finance,
        name="Globex spend",
        payers=[estate.subsidiary_payer],
        shared_with=[estate.carl],
    )
    entries = view_entries()

    with refused("not_the_customers") as error:
        billing_view_update(
            actor=estate.finance, instance=view, shared_with=[estate.carl, estate.ian]
        )

    message = error.value.message
    assert message.startswith("Initech cannot be shown 444455556666 (acme-subsidiary)")
    assert "'Globex spend' is already shared with customer of Globex Ltd" in message
    assert error.value.field == "shared_with"
    assert unchanged(view)
    assert view_entries() == entries


def test_an_account_of_two_customers_is_still_shown_to_one_customer_per_view(
    admin_a: User, estate: Estate
) -> None:
    # Umbrella is billed for globex-prod alone, which Globex Ltd's payer also covers.
    uma = make_user(Role.END_CUSTOMER, "uma")
    end_customer_create(
        actor=admin_a, legal_name="Umbrella", accounts=[estate.globex_prod], viewers=[uma]
    )
    view = billing_view_create(
        actor=estate.finance, name="Prod", accounts=[estate.globex_prod], shared_with=[estate.carl]
    )

    with refused("other_customers_view") as error:
        billing_view_update(actor=estate.finance, instance=view, shared_with=[estate.carl, uma])

    assert error.value.message == (
        "'Prod' is already shared with customer of Globex Ltd, and a view shows end customers "
        "one customer's costs: it cannot also be shared with uma of Umbrella."
    )
    assert unchanged(view)
    billing_view_update(actor=estate.finance, instance=view, shared_with=[uma])
    assert list(BillingView.objects.get(pk=view.pk).shared_with.all()) == [uma]


# Changing a shared view's criteria
