"""Celery task of notifications: send one delivery, and queue its next attempt on failure."""

from __future__ import annotations

from insights.notifications.dispatch import send_delivery
from portal.core.tasks import tenant_task


@tenant_task(name="insights.tasks.send_notification", acks_late=True)
def send_notification(schema_name: str, delivery_id: int) -> int | None:
    """One attempt at a delivery; on failure the next attempt is queued with a growing
    countdown (30 s, 60 s, 120 s, ...). Safe to run again: a delivery delivered or failed
    for good is left alone. Returns the countdown queued, if any."""
    countdown = send_delivery(delivery_id)
    if countdown is not None:
        send_notification.apply_async((schema_name, delivery_id), countdown=countdown)
    return countdown
