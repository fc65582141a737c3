from __future__ import annotations

from typing import Any

from rest_framework import mixins, viewsets

from portal.audit.models import AuditEntry
from portal.audit.selectors import audit_entry_list
from portal.audit.serializers import AuditEntrySerializer
from portal.core.apis import ScopedAPIMixin
from portal.core.filters import id_filter, text_filter
from portal.users.roles import Role


class AuditEntryApi(ScopedAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The tenant's audit log (admins), filterable by object_type, object_id and actor."""

    model = AuditEntry
    serializer_class = AuditEntrySerializer
    read_roles = frozenset({Role.ADMIN})
    query_filters = (
        text_filter("object_type", "e.g. `billing.account`"),
        text_filter("object_id", "The changed row's id."),
        id_filter("actor", "The acting user's id."),
    )

    def get_queryset(self) -> Any:
        return audit_entry_list(user=self.request.user)
