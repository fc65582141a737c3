"""The notification pages: admins manage endpoints, see a secret once, send a test and read
the delivery log; finance and team leads are refused."""

from __future__ import annotations

from typing import Any

import pytest

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications import tasks
from insights.notifications.services import endpoint_create
from portal.audit.models import AuditEntry
from portal.tenants.models import Tenant
from portal.users.models import Role, User
from tests.conftest import TenantClient, make_user

BASE = "/settings/notifications/"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks.send_notification, "delay", lambda *args: calls.append(args))
    return calls


def page(client: TenantClient, path: str, data: Any = None) -> str:
    response = client.get(path, data)
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def test_an_admin_makes_a_webhook_and_sees_its_secret_once(
    admin_client_a: TenantClient,
) -> None:
    assert "No endpoints yet" in page(admin_client_a, BASE)
    response = admin_client_a.post(
        f"{BASE}new/",
        {
            "name": "Ops relay",
            "kind": "webhook",
            "target": "https://hooks.example.com/finops",
            "events": ["anomaly.detected"],
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint = NotificationEndpoint.objects.get(name="Ops relay")
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["anomaly.detected"]

    listing = page(admin_client_a, BASE)
    assert "Ops relay" in listing and "https://hooks.example.com/finops" in listing
    assert endpoint.secret not in listing
    assert f"secret ••••{endpoint.secret[-4:]}" in listing
    assert "anomaly.detected" in listing and "none yet" in listing


def test_refusals_name_the_field_on_the_form(admin_client_a: TenantClient) -> None:
    response = admin_client_a.post(
        f"{BASE}new/", {"name": "Finance", "kind": "email", "target": "fin@, cfo@example.com"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "&#x27;fin@&#x27; is not an e-mail address." in html
    response = admin_client_a.post(
        f"{BASE}new/", {"name": "Hook", "kind": "webhook", "target": "ftp://files.example.com"}
    )
    assert "A webhook&#x27;s target is an http:// or https:// URL" in response.content.decode()
    assert not NotificationEndpoint.objects.exists()


def test_an_admin_edits_rotates_and_deletes_with_confirmation(
    admin_client_a: TenantClient,
) -> None:
    endpoint = endpoint_create(
        actor=None, name="Hook", kind="webhook", target="https://hooks.example.com/a"
    )
    old = endpoint.secret
    edit = admin_client_a.post(
        f"{BASE}{endpoint.pk}/",
        {"name": "Hook", "kind": "webhook", "target": "https://hooks.example.com/b"},
    )
    assert edit.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.target == "https://hooks.example.com/b" and not endpoint.active
    assert endpoint.secret == old

    assert "stops working at once" in page(admin_client_a, f"{BASE}{endpoint.pk}/rotate-secret/")
    rotated = admin_client_a.post(f"{BASE}{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in rotated.content.decode()
    assert AuditEntry.objects.filter(action="notificationendpoint.rotate_secret").exists()

    assert "Delete Hook?" in page(admin_client_a, f"{BASE}{endpoint.pk}/delete/")
    assert NotificationEndpoint.objects.filter(pk=endpoint.pk).exists()  # asking deletes nothing
    deleted = admin_client_a.post(f"{BASE}{endpoint.pk}/delete/")
    assert deleted.status_code == 302
    assert not NotificationEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_send_test_makes_a_delivery_shown_in_the_log(
    admin_client_a: TenantClient,
    queued: list[tuple[str, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint = endpoint_create(
        actor=None, name="Finance", kind="email", target="fin@example.com", active=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_a.post(f"{BASE}{endpoint.pk}/test/")
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}deliveries/?endpoint={endpoint.pk}"
    delivery = NotificationDelivery.objects.get(endpoint=endpoint)
    assert delivery.event == "test" and delivery.subject_key.startswith("test:")
    assert [pk for _, pk in queued] == [delivery.pk]

    log = page(admin_client_a, f"{BASE}deliveries/", {"endpoint": endpoint.pk})
    assert "Test message from the FinOps portal to Finance" in log
    assert "Pending" in log and "is on its way" in log


def test_the_log_filters_by_endpoint_and_status_and_shows_errors(
    admin_client_a: TenantClient, queued: list[tuple[str, int]]
) -> None:
    hook = endpoint_create(actor=None, name="Hook", kind="webhook", target="https://h.example/")
    mail = endpoint_create(actor=None, name="Mail", kind="email", target="a@example.com")
    NotificationDelivery.objects.create(
        endpoint=hook,
        event="budget.alert",
        subject_key="budget_alert:1",
        subject="Budget Web: 90 % crossed",
        status="failed",
        attempts=6,
        response_code=502,
        last_error="HTTP 502: bad gateway",
    )
    NotificationDelivery.objects.create(
        endpoint=mail,
        event="anomaly.detected",
        subject_key="anomaly:1",
        subject="Cost anomaly: Service Amazon EC2",
        status="delivered",
        attempts=1,
    )
    everything = page(admin_client_a, f"{BASE}deliveries/")
    assert "Budget Web: 90 % crossed" in everything and "Cost anomaly" in everything
    failed = page(admin_client_a, f"{BASE}deliveries/", {"status": "failed"})
    assert "HTTP 502: bad gateway" in failed and "Cost anomaly" not in failed
    assert "502" in failed
    by_mail = page(admin_client_a, f"{BASE}deliveries/", {"endpoint": mail.pk})
    assert "Cost anomaly" in by_mail and "Budget Web" not in by_mail
    listing = page(admin_client_a, BASE)
    assert "1 failed" in listing


@pytest.mark.parametrize("role", [Role.FINANCE, Role.TEAM_LEAD, Role.RESELLER_ADMIN])
def test_other_roles_are_refused_every_notification_page(
    role: str, tenant_a: Tenant, client_a: TenantClient
) -> None:
    endpoint = endpoint_create(actor=None, name="Mail", kind="email", target="a@example.com")
    person: User = make_user(role)
    client_a.force_login(person)
    for path in ("", "new/", f"{endpoint.pk}/", f"{endpoint.pk}/delete/", "deliveries/"):
        assert client_a.get(f"{BASE}{path}").status_code == 403, path
    assert client_a.post(f"{BASE}{endpoint.pk}/test/").status_code == 403
    assert client_a.post(f"{BASE}{endpoint.pk}/delete/").status_code == 403
    assert NotificationEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not NotificationDelivery.objects.exists()
