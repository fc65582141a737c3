"""Reading endpoints and their delivery log (admins only: pages and API check the role)."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from insights.models import NotificationDelivery, NotificationEndpoint


def endpoint_list() -> QuerySet[NotificationEndpoint]:
    """Endpoints with their latest delivery's status and time, and how many failed."""
    latest = NotificationDelivery.objects.filter(endpoint=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    return NotificationEndpoint.objects.annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
        failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
    ).order_by("name")


def delivery_list(
    *, endpoint_id: int | None = None, status: str | None = None
) -> QuerySet[NotificationDelivery]:
    """Newest first, each with its endpoint."""
    rows = NotificationDelivery.objects.select_related("endpoint").order_by("-created_at", "-id")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    if status:
        rows = rows.filter(status=status)
    return rows
