"""Sending events to endpoints: one delivery per endpoint and subject, each sent by its own
task after the transaction commits, retried with exponential back-off until it arrives or
has failed MAX_ATTEMPTS times.
"""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: the body is not posted on elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class SendFailed(Exception):
    def __init__(self, message: str, response_code: int | None = None) -> None:
        super().__init__(message)
        self.response_code = response_code


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
    request = urllib.request.Request(endpoint.target, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            code = int(response.status)
    except urllib.error.HTTPError as error:
        text = error.read(300).decode(errors="replace").strip()
        raise SendFailed(f"HTTP {error.code}: {text or error.reason}", error.code) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise SendFailed(f"No answer within {TIMEOUT_SECONDS} s.") from None
        why = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
        raise SendFailed(f"Could not connect: {why}") from None
    except (TimeoutError, OSError) as error:
        raise SendFailed(f"Could not send: {error or type(error).__name__}") from None
    if not 200 <= code < 300:
        raise SendFailed(f"HTTP {code}: not a 2xx answer.", code)
    return code


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
            if delivery.attempts >= MAX_ATTEMPTS:
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
