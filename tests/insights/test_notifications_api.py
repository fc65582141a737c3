"""Notifications in the REST API: admins manage endpoints (the secret answered once), send
tests and read the delivery log; other roles are refused; refusals name the field."""

from __future__ import annotations

from typing import Any

import pytest

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications import tasks
from insights.notifications.services import endpoint_create
from portal.tenants.models import Tenant
from portal.users.models import Role, User
from tests.conftest import Api, TenantClient, make_user

URL = "notification-endpoints/"


@pytest.fixture
def api(client_a: TenantClient, admin_a: User, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(tasks.send_notification, "delay", lambda *args: None)
    return Api(client_a, admin_a)


def test_an_admin_creates_a_webhook_and_reads_its_secret_only_then(api: Api) -> None:
    created = api.post(
        URL,
        {"name": "Ops", "kind": "webhook", "target": "https://hooks.example.com/x"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    endpoint = NotificationEndpoint.objects.get(pk=body["id"])
    assert body["secret"] == endpoint.secret and len(body["secret"]) >= 43
    assert body["events"] == [] and body["active"] is True and body["last_status"] is None

    again = api.get(f"{URL}{endpoint.pk}/").json()
    assert "secret" not in again
    assert again["secret_hint"] == f"••••{endpoint.secret[-4:]}"
    listed = api.get(URL).json()
    assert [row["name"] for row in listed["results"]] == ["Ops"]

    rotated = api.post(f"{URL}{endpoint.pk}/rotate-secret/")
    assert rotated.status_code == 200
    endpoint.refresh_from_db()
    assert rotated.json()["secret"] == endpoint.secret != body["secret"]


def test_changes_and_refusals_name_the_field(api: Api) -> None:
    endpoint = endpoint_create(actor=None, name="Fin", kind="email", target="a@example.com")
    changed = api.patch(f"{URL}{endpoint.pk}/", {"events": ["budget.alert"], "active": False})
    assert changed.status_code == 200, changed.content
    assert changed.json()["events"] == ["budget.alert"] and changed.json()["active"] is False

    bad_mail = api.patch(f"{URL}{endpoint.pk}/", {"target": "a@example.com, nobody"})
    assert bad_mail.status_code == 400
    assert bad_mail.json()["field"] == "target"
    assert "'nobody' is not an e-mail address." in bad_mail.json()["message"]
    bad_event = api.patch(f"{URL}{endpoint.pk}/", {"events": ["invoice.issued"]})
    assert bad_event.status_code == 400 and bad_event.json()["field"] == "events"
    bad_url = api.post(URL, {"name": "Hook", "kind": "webhook", "target": "hooks.example.com"})
    assert bad_url.status_code == 400 and bad_url.json()["field"] == "target"
    taken = api.post(URL, {"name": "Fin", "kind": "email", "target": "b@example.com"})
    assert taken.status_code == 400 and taken.json()["field"] == "name"
    no_secret = api.post(f"{URL}{endpoint.pk}/rotate-secret/")
    assert no_secret.status_code == 400 and no_secret.json()["code"] == "not_a_webhook"


def test_a_test_send_and_the_delivery_log(api: Api) -> None:
    endpoint = endpoint_create(actor=None, name="Fin", kind="email", target="a@example.com")
    other = endpoint_create(actor=None, name="Hook", kind="webhook", target="https://h.example/")
    sent = api.post(f"{URL}{endpoint.pk}/test/")
    assert sent.status_code == 201, sent.content
    assert sent.json()["event"] == "test" and sent.json()["status"] == "pending"
    NotificationDelivery.objects.create(
        endpoint=other, event="budget.alert", subject_key="budget_alert:1", status="failed"
    )

    log = api.get("notification-deliveries/").json()["results"]
    assert [(row["endpoint_name"], row["event"]) for row in log] == [
        ("Hook", "budget.alert"),
        ("Fin", "test"),
    ]
    only_failed = api.get("notification-deliveries/", {"status": "failed"}).json()["results"]
    assert [row["endpoint_name"] for row in only_failed] == ["Hook"]
    only_fin = api.get("notification-deliveries/", {"endpoint": endpoint.pk}).json()["results"]
    assert [row["event"] for row in only_fin] == ["test"]
    assert api.get("notification-deliveries/", {"status": "lost"}).status_code == 400
    assert api.get(f"{URL}{endpoint.pk}/").json()["last_status"] == "pending"

    deleted = api.client.delete(f"/api/v1/{URL}{other.pk}/", HTTP_AUTHORIZATION=api.auth)
    assert deleted.status_code == 204
    assert not NotificationDelivery.objects.filter(endpoint_id=other.pk).exists()


@pytest.mark.parametrize("role", [Role.FINANCE, Role.TEAM_LEAD, Role.END_CUSTOMER])
def test_other_roles_are_refused(role: str, tenant_a: Tenant, client_a: TenantClient) -> None:
    endpoint = endpoint_create(actor=None, name="Fin", kind="email", target="a@example.com")
    person = make_user(role)
    api = Api(client_a, person)
    answers: list[Any] = [
        api.get(URL),
        api.get(f"{URL}{endpoint.pk}/"),
        api.post(URL, {"name": "X", "kind": "email", "target": "x@example.com"}),
        api.post(f"{URL}{endpoint.pk}/test/"),
        api.get("notification-deliveries/"),
    ]
    assert [a.status_code for a in answers] == [403] * 5
    assert not NotificationDelivery.objects.exists()
