"""Webhooks never reach the portal's own network: a target that is, or resolves to, a
loopback, private or link-local address is refused when saved (an address) and when sent
(any name, resolved at each send), unless the settings allow private addresses."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.db import connection as default_connection

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications import dispatch, tasks
from insights.notifications.dispatch import non_public, notify
from insights.notifications.services import endpoint_create, endpoint_update
from portal.core.errors import ApplicationError
from portal.tenants.models import Tenant

Status = NotificationDelivery.Status
connection: Any = default_connection


@pytest.fixture(autouse=True)
def private_refused(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Sends and retries queued, not run: a retry queued shows here."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.send_notification, "delay", lambda *args: calls.append(args))
    monkeypatch.setattr(
        tasks.send_notification, "apply_async", lambda *args, **kw: calls.append((args, kw))
    )
    return calls


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, list[Any]]]:
    """What would be posted (URL, host, the addresses it may connect to), answered 200."""
    sent: list[tuple[str, str, list[Any]]] = []

    class Answer:
        status = 200
        reason = "OK"

        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: Any) -> None:
            pass

    def fake_open(request: Any, host: str, infos: list[Any]) -> Answer:
        sent.append((request.full_url, host, [info[4][0] for info in infos]))
        return Answer()

    monkeypatch.setattr(dispatch, "_open", fake_open)
    return sent


def resolving(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> None:
    """socket.getaddrinfo answering these addresses for these names."""

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        family = socket.AF_INET6
        return [
            (
                family if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in names[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def send_once(target: str) -> NotificationDelivery:
    """One send to an endpoint saved as it is (e.g. before the settings changed)."""
    endpoint = NotificationEndpoint.objects.create(
        name="Hook", kind="webhook", target=target, secret="s" * 43
    )
    [delivery] = notify("budget.alert", f"budget_alert:{endpoint.pk}", "Budget", {})
    tasks.send_notification(connection.schema_name, delivery.pk)
    delivery.refresh_from_db()
    return delivery


@pytest.mark.parametrize(
    ("target", "resolves_to"),
    [
        ("http://127.0.0.1:8000/hook", None),
        ("http://10.0.0.5/hook", None),
        ("http://169.254.169.254/latest/meta-data/", None),
        ("https://internal.example.com/hook", ["127.0.0.1"]),
        ("https://mixed.example.com/hook", ["93.184.216.34", "10.0.0.5"]),
        ("https://mapped.example.com/hook", ["::ffff:10.0.0.5"]),
        ("https://v6.example.com/hook", ["::1"]),
    ],
)
def test_a_webhook_to_a_private_address_is_refused_at_send_and_fails_without_retry(
    target: str,
    resolves_to: list[str] | None,
    tenant_a: Tenant,
    queued: list[Any],
    posted: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = target.split("/")[2].split(":")[0]
    if resolves_to is not None:
        resolving(monkeypatch, {host: resolves_to})
    delivery = send_once(target)
    assert posted == []
    assert delivery.status == Status.FAILED and delivery.attempts == 1
    assert delivery.next_attempt_at is None and delivery.response_code is None
    assert delivery.last_error.startswith(f"refused: {host} ")
    private = next(a for a in resolves_to or [host] if non_public(a))
    assert f"a private address {private}; " in delivery.last_error
    assert "PORTAL_WEBHOOK_ALLOW_PRIVATE" in delivery.last_error
    # No retry is queued: only the first send's task.
    assert [call for call in queued if isinstance(call[0], tuple)] == []


def test_a_name_resolving_to_a_public_address_is_sent_there_only(
    tenant_a: Tenant, queued: list[Any], posted: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, {"hooks.example.com": ["93.184.216.34"]})
    delivery = send_once("https://hooks.example.com/finops")
    assert posted == [("https://hooks.example.com/finops", "hooks.example.com", ["93.184.216.34"])]
    assert delivery.status == Status.DELIVERED and delivery.last_error == ""


def test_private_addresses_are_sent_to_when_the_settings_allow_them(
    tenant_a: Tenant, queued: list[Any], posted: list[Any], settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    delivery = send_once("http://10.0.0.5/hook")
    assert delivery.status == Status.DELIVERED
    assert posted == [("http://10.0.0.5/hook", "10.0.0.5", ["10.0.0.5"])]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.20:8080/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
    ],
)
def test_a_webhook_to_a_private_address_cannot_be_saved(target: str, tenant_a: Tenant) -> None:
    with pytest.raises(ApplicationError) as refused:
        endpoint_create(actor=None, name="Hook", kind="webhook", target=target)
    assert refused.value.field == "target"
    assert "is a private address" in str(refused.value)
    assert not NotificationEndpoint.objects.exists()


def test_an_endpoint_cannot_be_changed_to_a_private_address(tenant_a: Tenant) -> None:
    endpoint = endpoint_create(actor=None, name="Hook", kind="webhook", target="https://h.example/")
    with pytest.raises(ApplicationError) as refused:
        endpoint_update(actor=None, endpoint=endpoint, target="http://10.1.2.3/")
    assert refused.value.field == "target"
    endpoint.refresh_from_db()
    assert endpoint.target == "https://h.example/"


def test_public_addresses_and_names_are_saved(tenant_a: Tenant, settings: Any) -> None:
    endpoint_create(actor=None, name="A", kind="webhook", target="https://93.184.216.34/hook")
    endpoint_create(actor=None, name="B", kind="webhook", target="https://hooks.example.com/x")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    endpoint_create(actor=None, name="C", kind="webhook", target="http://10.0.0.5/hook")
    assert NotificationEndpoint.objects.count() == 3


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("0.0.0.0", True),
        ("100.64.0.1", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::", True),
        ("fc00::1", True),
        ("::ffff:169.254.169.254", True),
        ("64:ff9b::a00:5", True),
        ("2002:a00:5::1", True),
    ],
)
def test_which_addresses_are_not_public(address: str, refused: bool) -> None:
    assert non_public(address) is refused
