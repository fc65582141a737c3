"""Sending events to endpoints: one delivery per endpoint and subject, each sent by its own
task after the transaction commits, retried with exponential back-off until it arrives or
has failed MAX_ATTEMPTS times.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications.messages import email_text
from insights.notifications.signing import signed_headers

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30
TIMEOUT_SECONDS = 10
MAX_ERROR_CHARS = 1000
Status = NotificationDelivery.Status


def retry_countdown(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt: 30, 60, 120, 240, 480."""
    return int(FIRST_RETRY_SECONDS * 2 ** (attempts - 1))


def subscribed(endpoint: NotificationEndpoint, event: str) -> bool:
    """No events chosen means every event but "test", which is only sent on request."""
    return event in endpoint.events if endpoint.events else event != "test"


def _queue(delivery: NotificationDelivery) -> None:
    from insights.notifications.tasks import send_notification

    schema = connection.schema_name  # type: ignore[attr-defined]
    transaction.on_commit(lambda: send_notification.delay(schema, delivery.pk))


def _create(
    endpoint: NotificationEndpoint,
    *,
    event: str,
    subject_key: str,
    subject: str,
    payload: dict[str, Any],
) -> NotificationDelivery | None:
    """The new delivery, queued on commit; None when this subject went there already."""
    # Stored as JSON reads it back, so that what is sent equals what was stored.
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    delivery, created = NotificationDelivery.objects.get_or_create(
        endpoint=endpoint,
        subject_key=subject_key[:200],
        defaults={"event": event, "subject": subject[:500], "payload": data},
    )
    if not created:
        return None
    _queue(delivery)
    return delivery


def deliver_to(
    endpoint: NotificationEndpoint,
    *,
    event: str,
    subject_key: str,
    subject: str,
    payload: dict[str, Any],
) -> NotificationDelivery:
    """Send to this one endpoint (the test-send); `subject_key` must be new."""
    delivery = _create(
        endpoint, event=event, subject_key=subject_key, subject=subject, payload=payload
    )
    if delivery is None:
        raise ValueError(f"{subject_key!r} was sent to {endpoint} already")
    return delivery


@transaction.atomic
def notify(
    event: str, subject_key: str, subject: str, payload: dict[str, Any]
) -> list[NotificationDelivery]:
    """Send `event` about `subject_key` (e.g. "budget_alert:12") to every active endpoint
    subscribed to it. Returns the deliveries this call made, each queued to send once the
    transaction commits; a subject already sent to an endpoint is not sent again there,
    so calling twice sends once."""
    made = []
    for endpoint in NotificationEndpoint.objects.filter(active=True).order_by("pk"):
        if not subscribed(endpoint, event):
            continue
        delivery = _create(
            endpoint, event=event, subject_key=subject_key, subject=subject, payload=payload
        )
        if delivery is not None:
            made.append(delivery)
    return made


class SendFailed(Exception):
    def __init__(
        self, message: str, response_code: int | None = None, *, final: bool = False
    ) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.final = final  # trying again cannot help: failed at once


# Addresses a webhook must not reach (SSRF) ------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def non_public(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved or unspecified, also when an IPv4
    address is carried in IPv6 (mapped, 6to4, NAT64); True for what is not an address."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped or ip.sixtofour:
            ip = ip.ipv4_mapped or ip.sixtofour  # type: ignore[assignment]
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global  # e.g. 100.64.0.0/10, shared by carriers
    )


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


Resolved = list[tuple[Any, ...]]  # socket.getaddrinfo's answers


def resolve_public(host: str, port: int) -> Resolved:
    """Every address `host` resolves to, refused (for good) when any one is not public,
    unless the settings allow it. Resolved at each send: DNS can change after saving."""
    if not host:
        raise SendFailed("refused: the URL names no host.", final=True)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise SendFailed(f"Could not resolve {host}: {error}") from None
    if not private_allowed():
        for info in infos:
            address = str(info[4][0])
            if non_public(address):
                said = "is" if address == host else "resolves to"
                raise SendFailed(
                    f"refused: {host} {said} a private address {address}; webhooks go to "
                    "public addresses only (PORTAL_WEBHOOK_ALLOW_PRIVATE=1 allows others).",
                    final=True,
                )
    return infos


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: the body is not posted on elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _pinned(base: type[http.client.HTTPConnection], host: str, infos: Resolved) -> Any:
    """`base` connecting to `host` only at the addresses checked, not resolving it again
    (a second answer could be another address); other hosts (a proxy) as usual."""

    class Pinned(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = self._connect_checked

        def _connect_checked(
            self, address: tuple[str, int], timeout: Any = None, source: Any = None
        ) -> socket.socket:
            if address[0].lower() != host.lower():
                return socket.create_connection(address, timeout, source)
            error: OSError = OSError(f"no address for {host}")
            for family, kind, proto, _, sockaddr in infos:
                sock = socket.socket(family, kind, proto)
                try:
                    if isinstance(timeout, int | float):
                        sock.settimeout(timeout)
                    if source:
                        sock.bind(source)
                    sock.connect(sockaddr)
                    return sock
                except OSError as failed:
                    error = failed
                    sock.close()
            raise error

    return Pinned


def _open(request: urllib.request.Request, host: str, infos: Resolved) -> Any:
    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(_pinned(http.client.HTTPConnection, host, infos), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(
                _pinned(http.client.HTTPSConnection, host, infos),
                req,
                context=self._context,  # type: ignore[attr-defined]
            )

    opener = urllib.request.build_opener(_NoRedirect, HTTP, HTTPS)
    return opener.open(request, timeout=TIMEOUT_SECONDS)


def webhook_body(delivery: NotificationDelivery) -> bytes:
    body = {
        "id": str(delivery.pk),
        "event": delivery.event,
        "subject": delivery.subject,
        "subject_key": delivery.subject_key,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def _post(delivery: NotificationDelivery) -> int:
    endpoint = delivery.endpoint
    body = webhook_body(delivery)
    headers = signed_headers(
        secret=endpoint.secret, body=body, event=delivery.event, delivery_id=str(delivery.pk)
    )
    url = urllib.parse.urlsplit(endpoint.target)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        raise SendFailed(
            f"refused: {endpoint.target[:200]} has no valid port.", final=True
        ) from None
    host = url.hostname or ""
    infos = resolve_public(host, port)
    request = urllib.request.Request(endpoint.target, data=body, headers=headers, method="POST")
    try:
        with _open(request, host, infos) as response:
            code = int(response.status)
            phrase = _phrase(response.reason)
    except urllib.error.HTTPError as error:
        # The status alone: the receiver's body is not kept (it may be an internal page).
        raise SendFailed(f"HTTP {error.code}: {_phrase(error.reason)}", error.code) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise SendFailed(f"No answer within {TIMEOUT_SECONDS} s.") from None
        why = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
        raise SendFailed(f"Could not connect: {why}") from None
    except (TimeoutError, OSError) as error:
        raise SendFailed(f"Could not send: {error or type(error).__name__}") from None
    if not 200 <= code < 300:
        raise SendFailed(f"HTTP {code}: {phrase} (not a 2xx answer).", code)
    return code


def _phrase(reason: Any) -> str:
    return " ".join(str(reason or "").split())[:100] or "no reason given"


def _mail(delivery: NotificationDelivery) -> None:
    recipients = [a.strip() for a in delivery.endpoint.target.split(",") if a.strip()]
    try:
        send_mail(
            delivery.subject,
            email_text(delivery.event, delivery.subject, delivery.payload),
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except Exception as error:  # any backend's failure (SMTP, network) is retried
        raise SendFailed(f"Could not send the e-mail: {error or type(error).__name__}") from None


def send_delivery(delivery_id: int) -> int | None:
    """Make one attempt at a delivery; the seconds until the next attempt, or None when
    none is due (delivered, failed for good, or not pending at all)."""
    with transaction.atomic():
        # Locked while sending: a second worker given the same task waits, then finds it done.
        delivery = (
            NotificationDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status not in (Status.PENDING, Status.RETRYING):
            return None
        endpoint = delivery.endpoint
        if not endpoint.active and delivery.event != "test":
            _stop(delivery, "The endpoint was deactivated before this was sent.")
            return None
        delivery.attempts += 1
        try:
            if endpoint.kind == NotificationEndpoint.Kind.WEBHOOK:
                delivery.response_code = _post(delivery)
            else:
                _mail(delivery)
        except SendFailed as error:
            delivery.response_code = error.response_code
            delivery.last_error = str(error)[:MAX_ERROR_CHARS]
            if error.final or delivery.attempts >= MAX_ATTEMPTS:
                _stop(delivery, delivery.last_error)
                return None
            countdown = retry_countdown(delivery.attempts)
            delivery.status = Status.RETRYING
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=countdown)
            delivery.save()
            logger.info("delivery %s: attempt %s failed, again in %s s", delivery.pk,
                        delivery.attempts, countdown)  # fmt: skip
            return countdown
        delivery.status = Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.save()
        return None


def _stop(delivery: NotificationDelivery, error: str) -> None:
    delivery.status = Status.FAILED
    delivery.last_error = error[:MAX_ERROR_CHARS]
    delivery.next_attempt_at = None
    delivery.save()
    logger.warning("delivery %s failed: %s", delivery.pk, error)
