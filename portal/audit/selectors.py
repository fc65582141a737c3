from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from portal.audit.models import AuditEntry


def audit_entry_list(
    *, user: Any, object_type: str = "", object_id: str = "", actor_id: int | None = None
) -> QuerySet[AuditEntry]:
    """The entries `user` may read, newest first, filtered by object and actor."""
    entries = AuditEntry.objects.visible_to(user).select_related("actor")
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    return entries


def audit_object_types() -> list[str]:
    return list(
        AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
