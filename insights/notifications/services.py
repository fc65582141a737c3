"""Writes to notification endpoints: each checked (refusals name the field) and audited.

A webhook's secret is made here and returned once, on the endpoint, to the caller that
shows it; the audit log records only a fingerprint of it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import urllib.parse
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction

from insights.models import NOTIFICATION_EVENTS, NotificationDelivery, NotificationEndpoint
from insights.notifications.dispatch import non_public, private_allowed
from portal.audit.services import audit_record, snapshot
from portal.core.errors import ApplicationError

EVENTS = tuple(key for key, _ in NOTIFICATION_EVENTS)
ENDPOINT_FIELDS = ("name", "kind", "target", "events", "active")
MAX_ADDRESSES = 50
_url = URLValidator(schemes=["http", "https"])


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hint(secret: str) -> str:
    """What pages and the API show of a secret once it was shown: its last 4 characters."""
    return f"••••{secret[-4:]}" if secret else ""


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else ""


def _state(endpoint: NotificationEndpoint) -> dict[str, Any]:
    state = {k: v for k, v in snapshot(endpoint).items() if k != "secret"}
    state["secret_sha256"] = _fingerprint(endpoint.secret)
    return state


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", field=field)


def clean_addresses(target: str) -> str:
    """E-mail addresses separated by commas, as "a@x.example, b@y.example"."""
    addresses = [part.strip() for part in str(target).replace(";", ",").split(",")]
    addresses = [address for address in addresses if address]
    if not addresses:
        raise _refuse("Give at least one e-mail address.", "target")
    if len(addresses) > MAX_ADDRESSES:
        raise _refuse(f"Give at most {MAX_ADDRESSES} e-mail addresses.", "target")
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise _refuse(f"{address[:80]!r} is not an e-mail address.", "target") from None
    return ", ".join(dict.fromkeys(addresses))


def clean_url(target: str) -> str:
    url = str(target).strip()
    try:
        _url(url)
    except ValidationError:
        raise _refuse(
            "A webhook's target is an http:// or https:// URL, e.g. https://hooks.example.com/finops.",
            "target",
        ) from None
    # A name is checked again at each send (DNS can change); an address is refused now.
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return url
    if non_public(host) and not private_allowed():
        raise _refuse(
            f"A webhook's target must be a public address: {host} is a private address.",
            "target",
        )
    return url


def clean_events(events: Any) -> list[str]:
    """The events, each once, in their usual order; empty means every event but "test"."""
    if events is None:
        return []
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise _refuse(f"events is a list of event names: {', '.join(EVENTS)}.", "events")
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise _refuse(
            f"Unknown event {unknown[0][:40]!r}: events are {', '.join(EVENTS)}.", "events"
        )
    return [event for event in EVENTS if event in events]


def _check(endpoint: NotificationEndpoint) -> None:
    if endpoint.kind not in NotificationEndpoint.Kind.values:
        raise _refuse("kind is email or webhook.", "kind")
    if endpoint.kind == NotificationEndpoint.Kind.WEBHOOK:
        endpoint.target = clean_url(endpoint.target)
        if not endpoint.secret:
            endpoint.secret = new_secret()
    else:
        endpoint.target = clean_addresses(endpoint.target)
        endpoint.secret = ""  # e-mail is not signed
    endpoint.events = clean_events(endpoint.events)
    endpoint.name = str(endpoint.name).strip()
    try:
        endpoint.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise _refuse(" ".join(messages), field) from error


def _fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(ENDPOINT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise _refuse(f"{name} is not a field of an endpoint.", name)
    return fields


@transaction.atomic
def endpoint_create(*, actor: Any, **fields: Any) -> NotificationEndpoint:
    """A new endpoint; a webhook gets a new secret, readable on the result this once."""
    endpoint = NotificationEndpoint(**_fields(fields))
    _check(endpoint)
    endpoint.save()
    audit_record(
        actor=actor,
        action="notificationendpoint.create",
        instance=endpoint,
        after=_state(endpoint),
    )
    return endpoint


@transaction.atomic
def endpoint_update(
    *, actor: Any, endpoint: NotificationEndpoint, **fields: Any
) -> NotificationEndpoint:
    """Change the given fields; an endpoint that becomes a webhook gets a secret."""
    locked = NotificationEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _state(locked)
    for name, value in _fields(fields).items():
        setattr(locked, name, value)
    _check(locked)
    locked.save()
    after = _state(locked)
    if after != before:
        audit_record(
            actor=actor,
            action="notificationendpoint.update",
            instance=locked,
            before=before,
            after=after,
        )
    return locked


@transaction.atomic
def endpoint_delete(*, actor: Any, endpoint: NotificationEndpoint) -> None:
    """The endpoint and its delivery log."""
    audit_record(
        actor=actor,
        action="notificationendpoint.delete",
        instance=endpoint,
        before=_state(endpoint),
    )
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(*, actor: Any, endpoint: NotificationEndpoint) -> NotificationEndpoint:
    """A new signing secret for a webhook; the old one stops working at once."""
    locked = NotificationEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.kind != NotificationEndpoint.Kind.WEBHOOK:
        raise ApplicationError(
            "Only webhooks are signed: an e-mail endpoint has no secret.",
            code="not_a_webhook",
            field="kind",
        )
    before = _state(locked)
    locked.secret = new_secret()
    locked.save(update_fields=["secret"])
    audit_record(
        actor=actor,
        action="notificationendpoint.rotate_secret",
        instance=locked,
        before=before,
        after=_state(locked),
    )
    return locked


@transaction.atomic
def endpoint_test_send(*, actor: Any, endpoint: NotificationEndpoint) -> NotificationDelivery:
    """A "test" message to this endpoint alone (active or not), sent like any other."""
    from insights.notifications.dispatch import deliver_to

    key = f"test:{uuid.uuid4()}"
    name = getattr(actor, "get_username", lambda: "the system")()
    delivery = deliver_to(
        endpoint,
        event="test",
        subject_key=key,
        subject=f"Test message from the FinOps portal to {endpoint.name}",
        payload={"message": f"A test sent by {name}: this endpoint receives notifications."},
    )
    audit_record(
        actor=actor,
        action="notificationendpoint.test",
        instance=endpoint,
        after={"delivery": delivery.pk, "subject_key": key},
    )
    return delivery
