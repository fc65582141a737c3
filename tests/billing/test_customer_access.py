"""Who logs in as an end customer: logins created (with a password or invited), linked
and removed from the customer's page, audited, and what each role may do there.
The API of the same: test_customer_access_api.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from billing.models import EndCustomer
from billing.services.customer_access import (
    customer_login_link,
    customer_login_remove,
    invitation_path,
    invitation_tokens,
)
from billing.services.customers import end_customer_update
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.billing.customer_world import GOOD_PASSWORD, initech, world
from tests.billing.helpers import audit_values, refused
from tests.conftest import PASSWORD, TenantClient, make_user
from tests.insights.world import World

__all__ = ["initech", "world"]  # the fixtures, used by name

D = Decimal
FEB = {"start": "2026-02-01", "end": "2026-03-01"}


@pytest.fixture
def reseller(world: World) -> User:
    return make_user(Role.RESELLER_ADMIN, "rita-reseller")


@pytest.fixture
def as_user(client_a: TenantClient) -> Callable[[User], TenantClient]:
    """A client of its own, logged in as the user."""

    def login(user: User) -> TenantClient:
        client = TenantClient(client_a.host)
        client.force_login(user)
        return client

    return login


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def access_url(customer: EndCustomer, tail: str = "") -> str:
    return f"/org/end-customers/{customer.pk}/{tail}"


def new_login(client: TenantClient, customer: EndCustomer, **data: str) -> Any:
    return client.post(access_url(customer, "logins/new/"), data)


def log_in(client_a: TenantClient, username: str, password: str) -> TenantClient:
    client = TenantClient(client_a.host)
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, text(response)
    return client


def test_a_login_created_with_a_password_sees_only_its_customer_at_resale(
    client_a: TenantClient, world: World, initech: EndCustomer, reseller: User, as_user: Any
) -> None:
    created = new_login(
        as_user(reseller),
        world.globex,
        username="gina",
        email="gina@globex.example",
        first_name="Gina",
        last_name="Gold",
        setup="password",
        password=GOOD_PASSWORD,
    )

    assert created.status_code == 302
    assert created["Location"] == access_url(world.globex)
    gina = User.objects.get(username="gina")
    assert (gina.role, gina.get_full_name(), gina.is_active) == (
        Role.END_CUSTOMER,
        "Gina Gold",
        True,
    )
    assert list(gina.end_customers.all()) == [world.globex]
    assert mail.outbox == []  # a password was given: no invitation

    client = log_in(client_a, "gina", GOOD_PASSWORD)
    options = client.get("/api/v1/costs/options/").json()
    assert [m["key"] for m in options["metrics"]] == ["resale"]
    assert options["locked_filters"] == [{"dimension": "end_customer", "values": ["Globex"]}]
    cost = client.get("/api/v1/costs/", {**FEB, "metric": "resale", "group_by": "account"})
    assert D(cost.json()["total"]) == D("28.04")  # Globex's A1 only, at its plan's prices
    assert {g["key"] for g in cost.json()["groups"]} == {"210000000001"}
    assert client.get("/api/v1/costs/", {**FEB, "metric": "billed_cost"}).status_code == 400
    customers = text(client.get("/org/end-customers/"))
    assert ">Globex<" in customers and "Initech" not in customers
    assert client.get(access_url(initech)).status_code == 404

    entries = AuditEntry.objects.filter(actor=reseller).order_by("pk")
    assert [e.action for e in entries] == ["user.create", "endcustomer.login_create"]
    assert (entries[0].after or {})["role"] == Role.END_CUSTOMER
    assert entries[1].object_repr == "Globex"
    assert entries[1].after == {"user": gina.pk, "username": "gina", "invited": False}


def test_an_invited_login_chooses_its_password_by_a_one_time_link(
    client_a: TenantClient,
    world: World,
    reseller: User,
    as_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    reseller_client = as_user(reseller)
    with django_capture_on_commit_callbacks(execute=True):
        shown = new_login(
            reseller_client, world.globex, username="ivan", email="ivan@globex.example",
            setup="invite", password="ignored when inviting",
        )  # fmt: skip

    assert shown.status_code == 200
    link = re.search(r'value="(http://[^"]+/set-password/[^"]+)"', text(shown))
    assert link is not None
    url = link.group(1)
    assert "ivan is invited" in text(shown) and "sent by email to <strong>ivan@globex" in text(
        shown
    )
    (sent,) = mail.outbox
    assert sent.to == ["ivan@globex.example"] and url in sent.body and "ivan" in sent.body
    ivan = User.objects.get(username="ivan")
    assert not ivan.has_usable_password() and ivan.end_customers.get() == world.globex
    assert "invited, no password yet" in text(reseller_client.get(access_url(world.globex)))
    assert audit_values("endcustomer.login_create")[1]["invited"] is True

    visitor = TenantClient(client_a.host)
    path = url.split("localhost", 1)[1]
    assert "You log in as <strong>ivan</strong>" in text(visitor.get(path))
    differ = visitor.post(path, {"password": GOOD_PASSWORD, "again": "something else"})
    assert "The two passwords differ." in text(differ)
    weak = visitor.post(path, {"password": "short", "again": "short"})
    assert "too short" in text(weak)
    done = visitor.post(path, {"password": GOOD_PASSWORD, "again": GOOD_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/login/"

    log_in(client_a, "ivan", GOOD_PASSWORD)
    assert "This link no longer works" in text(visitor.get(path))
    again = visitor.post(path, {"password": "Another-one-2026", "again": "Another-one-2026"})
    assert "This link no longer works" in text(again)
    assert AuditEntry.objects.get(action="user.set_password").actor == ivan


def test_a_login_without_an_email_gets_a_link_to_pass_on(
    world: World, reseller: User, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        shown = new_login(as_user(reseller), world.globex, username="noemail", setup="invite")
    assert "pass the link on yourself" in text(shown)
    assert mail.outbox == []


def test_a_new_password_link_for_an_existing_login(
    world: World, reseller: User, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.customer.email = "c@globex.example"
    world.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        shown = as_user(reseller).post(
            access_url(world.globex, f"logins/{world.customer.pk}/invite/")
        )
    assert "/set-password/" in text(shown)
    assert mail.outbox[0].to == ["c@globex.example"]
    assert AuditEntry.objects.get(action="endcustomer.login_invite").actor == reseller


def test_a_taken_username_is_refused_on_its_field(
    world: World, reseller: User, as_user: Any
) -> None:
    shown = new_login(as_user(reseller), world.globex, username="World-Customer", setup="invite")
    assert shown.status_code == 200
    assert "The username &#x27;World-Customer&#x27; is taken." in text(shown)
    password_missing = new_login(as_user(reseller), world.globex, username="x", setup="password")
    assert "Enter a password, or send an invitation instead." in text(password_missing)
    assert not User.objects.filter(username__in=["x"]).exists()


def test_linking_an_existing_login_and_refusing_one_of_another_customer(
    world: World, initech: EndCustomer, reseller: User, as_user: Any
) -> None:
    client = as_user(reseller)
    free = make_user(Role.END_CUSTOMER, "fred")
    page = text(client.get(access_url(initech)))
    assert "fred</option>" in page
    assert "world-customer — sees Globex</option>" in page

    linked = client.post(access_url(initech, "logins/link/"), {"user": free.pk}, follow=True)
    assert "fred sees Initech now." in text(linked)
    assert list(free.end_customers.all()) == [initech]

    taken = client.post(
        access_url(initech, "logins/link/"), {"user": world.customer.pk}, follow=True
    )
    assert "world-customer belongs to the end customer Globex" in text(taken)
    assert list(world.customer.end_customers.all()) == [world.globex]
    with refused("other_customer") as error:
        customer_login_link(actor=reseller, customer=initech, user=world.customer)
    assert error.value.field == "user" and "Globex" in error.value.message
    with refused("not_end_customer"):
        customer_login_link(actor=reseller, customer=initech, user=reseller)
    with refused("already_linked"):
        customer_login_link(actor=reseller, customer=initech, user=free)
    entry = AuditEntry.objects.get(action="endcustomer.login_link")
    assert (entry.actor, (entry.after or {})["username"]) == (reseller, "fred")


def test_removing_access_unlinks_and_deactivates_the_login(
    client_a: TenantClient, world: World, reseller: User, as_user: Any
) -> None:
    customer = world.customer
    customer.set_password(PASSWORD)
    customer.save()
    session = log_in(client_a, customer.username, PASSWORD)
    token = Token.objects.create(user=customer).key
    assert session.get("/org/end-customers/").status_code == 200

    removed = as_user(reseller).post(
        access_url(world.globex, f"logins/{customer.pk}/remove/"), follow=True
    )

    assert "world-customer no longer sees Globex. Its login is deactivated." in text(removed)
    customer.refresh_from_db()
    assert not customer.is_active and not customer.end_customers.exists()
    assert not Token.objects.filter(user=customer).exists()
    assert session.get("/org/end-customers/").status_code == 302  # the session is over
    api = session.get(
        "/api/v1/costs/", {**FEB, "metric": "resale"}, HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert api.status_code == 401
    refused_login = TenantClient(client_a.host).post(
        "/login/", {"username": customer.username, "password": PASSWORD}
    )
    assert "Username or password is wrong." in text(refused_login)
    entry = AuditEntry.objects.get(action="endcustomer.login_remove")
    assert (entry.actor, (entry.after or {})["deactivated"]) == (reseller, True)
    before, after = audit_values("user.update")  # the deactivation
    assert (before["is_active"], after["is_active"]) == (True, False)

    # Linked again, it is active again and sees the customer.
    customer_login_link(actor=reseller, customer=world.globex, user=customer)
    customer.refresh_from_db()
    assert customer.is_active
    log_in(client_a, customer.username, PASSWORD)


def test_a_login_that_sees_another_customer_too_stays_active(
    world: World, initech: EndCustomer, reseller: User
) -> None:
    end_customer_update(actor=None, instance=initech, viewers=[world.customer])

    deactivated = customer_login_remove(actor=reseller, customer=world.globex, user=world.customer)

    world.customer.refresh_from_db()
    assert deactivated is False and world.customer.is_active
    assert list(world.customer.end_customers.all()) == [initech]


def test_removal_is_refused_for_users_who_are_not_logins_of_this_customer(
    world: World, initech: EndCustomer, reseller: User, as_user: Any
) -> None:
    client = as_user(reseller)
    finance = make_user(Role.FINANCE, "fin")
    before = AuditEntry.objects.count()

    for customer, user in ((world.globex, finance), (initech, world.customer)):
        url = access_url(customer, f"logins/{user.pk}/remove/")
        shown = text(client.post(url, follow=True))
        assert f"{user.username} is not an end-customer login of {customer}." in shown

    assert AuditEntry.objects.count() == before
    world.customer.refresh_from_db()
    assert world.customer.is_active and world.customer.end_customers.get() == world.globex


def test_the_customer_page_lists_who_has_access(world: World, reseller: User, as_user: Any) -> None:
    world.customer.first_name, world.customer.email = "Carla", "carla@globex.example"
    world.customer.save()

    page = text(as_user(reseller).get(access_url(world.globex)))

    assert "Who has access" in page
    row = page[page.index("<td>Carla</td>") :]
    assert "<td>world-customer</td>" in row and "carla@globex.example" in row
    assert "never" in row and "active" in row
    assert "Remove access" in row and "New password link" in row and "New login" in page


def test_finance_reads_who_has_access_and_changes_nothing(
    world: World, initech: EndCustomer, as_user: Any
) -> None:
    client = as_user(make_user(Role.FINANCE, "fin"))

    page = text(client.get(access_url(world.globex)))

    assert "Who has access" in page and "<td>world-customer</td>" in page
    assert "Remove access" not in page and "New login" not in page
    assert "Link an existing" not in page
    for tail in ("logins/new/", "logins/link/", f"logins/{world.customer.pk}/remove/"):
        assert client.post(access_url(world.globex, tail), {"user": 1}).status_code == 403
    assert client.get(access_url(world.globex, "logins/new/")).status_code == 403


def test_team_leads_and_end_customers_see_no_logins(world: World, as_user: Any) -> None:
    lead = as_user(world.lead)
    assert lead.get(access_url(world.globex)).status_code == 404
    assert lead.post(access_url(world.globex, "logins/new/")).status_code == 403

    customer = as_user(world.customer)
    page = text(customer.get(access_url(world.globex)))
    assert "Who has access" not in page and "<td>world-customer</td>" not in page
    assert customer.post(access_url(world.globex, "logins/link/")).status_code == 403


def test_the_set_password_page_passes_the_csrf_check_a_browser_meets(
    client_a: TenantClient, world: World, reseller: User
) -> None:
    path = invitation_path(world.customer)
    browser = TenantClient(client_a.host, enforce_csrf_checks=True)
    form = browser.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(form))
    assert token is not None
    # A browser sends Origin: null under "no-referrer"; the site's same-origin policy stays.
    assert form["Referrer-Policy"] == "same-origin"
    done = browser.post(
        path,
        {"csrfmiddlewaretoken": token.group(1), "password": GOOD_PASSWORD, "again": GOOD_PASSWORD},
        HTTP_ORIGIN=f"http://{client_a.host}",
    )
    assert done.status_code == 302


def test_a_link_works_only_in_its_own_tenant(world: World) -> None:
    token = invitation_tokens.make_token(world.customer)
    assert invitation_tokens.check_token(world.customer, token)
    connection.set_schema("beta")  # type: ignore[attr-defined]
    assert not invitation_tokens.check_token(world.customer, token)


def test_the_customer_page_reads_a_constant_number_of_queries(
    world: World, reseller: User, as_user: Any
) -> None:
    client = as_user(reseller)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(access_url(world.globex)).status_code == 200
        return len(queries)

    def grow(n: int) -> int:
        for i in range(n):
            login = make_user(Role.END_CUSTOMER, f"extra-{n}-{i}")
            customer_login_link(actor=None, customer=world.globex, user=login)
            make_user(Role.END_CUSTOMER, f"free-{n}-{i}")  # offered to link
        return count()

    assert grow(1) == grow(5)
