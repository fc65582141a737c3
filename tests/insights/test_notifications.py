"""Notifications: signed webhooks received by a real HTTP server, e-mails, retries with
back-off until a delivery fails for good, and each subject sent once per endpoint."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection as default_connection

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications import tasks
from insights.notifications.dispatch import MAX_ATTEMPTS, notify
from insights.notifications.services import endpoint_create
from insights.notifications.signing import sign, verify_signature
from portal.audit.models import AuditEntry
from portal.tenants.models import Tenant

Status = NotificationDelivery.Status
# django-tenants adds the schema to the connection; the type stubs do not know it.
connection: Any = default_connection
SECRET = "s3cret-of-the-endpoint"
BODY = b'{"event":"budget.alert","data":{"actual":"91.20"}}'


@pytest.fixture(autouse=True)
def private_receivers_allowed(settings: Any) -> None:
    """The receivers here listen on 127.0.0.1, which production settings refuse."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


# The signature ---------------------------------------------------------------------------


def test_a_signature_verifies_with_its_secret_body_and_fresh_timestamp() -> None:
    header = sign(SECRET, BODY, 1_767_225_600)
    assert header.startswith("v1=") and len(header) == 3 + 64
    assert verify_signature(SECRET, BODY, "1767225600", header, now=1_767_225_600 + 299)


def test_a_signature_fails_for_a_changed_body_a_wrong_secret_or_a_stale_timestamp() -> None:
    stamp = 1_767_225_600
    header = sign(SECRET, BODY, stamp)
    assert not verify_signature(SECRET, BODY.replace(b"91.20", b"9.20"), stamp, header, now=stamp)
    assert not verify_signature("another secret", BODY, stamp, header, now=stamp)
    assert not verify_signature(SECRET, BODY, stamp, header, now=stamp + 301)
    assert not verify_signature(SECRET, BODY, stamp, header, now=stamp - 301)
    # The timestamp is signed too: another one with the same signature does not verify.
    assert not verify_signature(SECRET, BODY, stamp + 1, header, now=stamp)
    assert not verify_signature(SECRET, BODY, "not a time", header, now=stamp)
    assert verify_signature(SECRET, BODY, stamp, f"v1=00ff, {header}", now=stamp)


# A receiver on this machine ---------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Callable[[int], Receiver]]:
    """HTTP servers in threads, each answering every POST with its status."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int = 200) -> Receiver:
        got = Receiver(url="", status=status)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.requests.append((dict(self.headers.items()), body))
                self.send_response(got.status)
                self.end_headers()
                self.wfile.write(b"refused for the test" if got.status >= 300 else b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        got.url = f"http://127.0.0.1:{server.server_port}/hooks/finops"
        return got

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-listens"


@dataclass
class Queue:
    """The tasks queued (schema, delivery id, countdown), instead of sending them to a broker."""

    calls: list[tuple[str, int, int | None]] = field(default_factory=list)

    def run_all(self) -> list[tuple[int, int | None]]:
        """Run queued tasks (and the retries they queue) until none is left; the
        (delivery id, countdown) of each retry queued."""
        retries: list[tuple[int, int | None]] = []
        while self.calls:
            schema, delivery_id, _ = self.calls.pop(0)
            countdown = tasks.send_notification(schema, delivery_id)
            if countdown is not None:
                retries.append((delivery_id, countdown))
        return retries


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Queue:
    queued = Queue()

    def apply_async(
        args: tuple[str, int], kwargs: Any = None, countdown: int | None = None, **_: Any
    ) -> None:
        queued.calls.append((args[0], args[1], countdown))

    monkeypatch.setattr(tasks.send_notification, "apply_async", apply_async)
    return queued


def webhook(url: str, name: str = "Ops hook", events: list[str] | None = None) -> Any:
    return endpoint_create(actor=None, name=name, kind="webhook", target=url, events=events or [])


def test_a_webhook_arrives_signed_and_its_signature_verifies(
    tenant_a: Tenant,
    receiver: Callable[[int], Receiver],
    queue: Queue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    server = receiver(200)
    endpoint = webhook(server.url)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = notify("budget.alert", "budget_alert:1", "Budget Web: 90 %", {"x": "1"})
    assert queue.calls == [(connection.schema_name, delivery.pk, None)]
    assert queue.run_all() == []

    [(headers, body)] = server.requests
    assert headers["X-Portal-Event"] == "budget.alert"
    assert headers["X-Portal-Delivery"] == str(delivery.pk)
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(
        endpoint.secret, body, headers["X-Portal-Timestamp"], headers["X-Portal-Signature"]
    )
    assert not verify_signature(
        "wrong", body, headers["X-Portal-Timestamp"], headers["X-Portal-Signature"]
    )
    sent = json.loads(body)
    assert sent["event"] == "budget.alert" and sent["data"] == {"x": "1"}
    assert sent["subject"] == "Budget Web: 90 %" and sent["id"] == str(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1
    assert delivery.response_code == 200 and delivery.delivered_at is not None
    # A task given again (a redelivered message) sends nothing more.
    assert tasks.send_notification(connection.schema_name, delivery.pk) is None
    assert len(server.requests) == 1


def test_a_name_is_resolved_once_and_the_webhook_goes_to_the_address_checked(
    tenant_a: Tenant,
    receiver: Callable[[int], Receiver],
    queue: Queue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second answer (DNS rebinding) is never asked for: the connection uses the first."""
    server = receiver(200)
    port = int(server.url.split(":")[2].split("/")[0])
    answers = [[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]]

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "hooks.portal-test.invalid"
        return answers.pop(0)  # a second call would fail the test

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    webhook(f"http://hooks.portal-test.invalid:{port}/hooks/finops")
    [delivery] = notify("budget.alert", "budget_alert:9", "Budget", {})
    assert tasks.send_notification(connection.schema_name, delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED, delivery.last_error
    [(headers, _)] = server.requests
    assert headers["Host"] == f"hooks.portal-test.invalid:{port}"


@pytest.mark.parametrize("failing", ["HTTP 500", "connection refused"])
def test_a_failing_endpoint_backs_off_then_fails_while_another_is_delivered(
    failing: str,
    tenant_a: Tenant,
    receiver: Callable[[int], Receiver],
    queue: Queue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    good = receiver(200)
    bad_url = receiver(500).url if failing == "HTTP 500" else closed_port_url()
    webhook(bad_url, "Broken hook")
    webhook(good.url, "Working hook")
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = notify("anomaly.detected", "anomaly:7", "Cost anomaly", {"impact": "10"})
    assert len(deliveries) == 2

    retries = queue.run_all()

    broken = NotificationDelivery.objects.get(endpoint__name="Broken hook")
    working = NotificationDelivery.objects.get(endpoint__name="Working hook")
    assert [countdown for pk, countdown in retries if pk == broken.pk] == [30, 60, 120, 240, 480]
    assert all(pk == broken.pk for pk, _ in retries)
    assert broken.status == Status.FAILED and broken.attempts == MAX_ATTEMPTS
    assert broken.next_attempt_at is None and broken.delivered_at is None
    if failing == "HTTP 500":
        assert broken.response_code == 500
        # The status and its reason, never the receiver's body.
        assert broken.last_error == "HTTP 500: Internal Server Error"
    else:
        assert broken.response_code is None
        assert "Could not connect" in broken.last_error
    assert working.status == Status.DELIVERED and working.attempts == 1
    assert len(good.requests) == 1


def test_a_retrying_delivery_records_its_attempt_and_when_it_is_tried_again(
    tenant_a: Tenant, receiver: Callable[[int], Receiver], queue: Queue
) -> None:
    server = receiver(503)
    webhook(server.url)
    [delivery] = notify("budget.alert", "budget_alert:2", "Budget", {})
    assert tasks.send_notification(connection.schema_name, delivery.pk) == 30
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING and delivery.attempts == 1
    assert delivery.response_code == 503 and delivery.next_attempt_at is not None
    assert (delivery.next_attempt_at - delivery.created_at).total_seconds() >= 29
    assert queue.calls == [(connection.schema_name, delivery.pk, 30)]

    server.status = 204  # the receiver is back
    assert tasks.send_notification(connection.schema_name, delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 2
    assert delivery.response_code == 204 and delivery.last_error == ""


def test_an_email_endpoint_sends_to_each_address(tenant_a: Tenant, queue: Queue) -> None:
    endpoint_create(
        actor=None,
        name="Finance team",
        kind="email",
        target="fin@example.com , cfo@example.com",
        events=["budget.alert"],
    )
    [delivery] = notify("budget.alert", "budget_alert:3", "Budget Web crossed", {"link": ""})
    mail.outbox.clear()
    tasks.send_notification(connection.schema_name, delivery.pk)
    [message] = mail.outbox
    assert message.subject == "Budget Web crossed"
    assert message.to == ["fin@example.com", "cfo@example.com"]
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED


def test_notifying_twice_about_one_subject_sends_once(tenant_a: Tenant, queue: Queue) -> None:
    webhook("https://hooks.example.com/a")
    first = notify("budget.alert", "budget_alert:4", "Budget", {})
    again = notify("budget.alert", "budget_alert:4", "Budget", {})
    assert len(first) == 1 and again == []
    assert NotificationDelivery.objects.filter(subject_key="budget_alert:4").count() == 1


def test_only_active_endpoints_subscribed_to_the_event_get_it(
    tenant_a: Tenant, queue: Queue
) -> None:
    webhook("https://hooks.example.com/all", "All events")
    webhook("https://hooks.example.com/budgets", "Budgets only", events=["budget.alert"])
    webhook("https://hooks.example.com/anomalies", "Anomalies", events=["anomaly.detected"])
    off = webhook("https://hooks.example.com/off", "Switched off")
    NotificationEndpoint.objects.filter(pk=off.pk).update(active=False)

    sent = notify("budget.alert", "budget_alert:5", "Budget", {})
    assert sorted(d.endpoint.name for d in sent) == ["All events", "Budgets only"]
    # "test" goes only where it is asked for, never to endpoints that take every event.
    assert notify("test", "test:x", "Test", {}) == []


def test_an_endpoint_made_and_its_audit_entry_keep_the_secret_out_of_the_log(
    tenant_a: Tenant,
) -> None:
    endpoint = webhook("https://hooks.example.com/x")
    assert len(endpoint.secret) >= 43  # token_urlsafe(32)
    entry = AuditEntry.objects.get(action="notificationendpoint.create")
    assert entry.after is not None and "secret" not in entry.after
    assert endpoint.secret not in json.dumps(entry.after)


def test_the_documented_receiver_code_verifies_what_the_portal_signs() -> None:
    """docs/notifications.md gives receivers a verify function: it agrees with ours."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
    namespace: dict[str, Any] = {}
    exec(text.split("```python\n", 1)[1].split("```", 1)[0], namespace)
    documented = namespace["verify_signature"]
    stamp = int(time.time())
    assert documented(SECRET, BODY, str(stamp), sign(SECRET, BODY, stamp))
    assert not documented(SECRET, BODY + b" ", str(stamp), sign(SECRET, BODY, stamp))
    assert not documented(SECRET, BODY, str(stamp - 301), sign(SECRET, BODY, stamp - 301))
