"""The one place that decides which rows a user may see.

Every tenant model whose rows are shown to users has a manager built from
`ScopedQuerySet`. Pages and API views get their rows only through `visible_to(user)`
(see `portal.core.views.ScopedViewMixin` and `portal.core.apis.ScopedAPIMixin`).
Tenant isolation itself comes from the schema: a request only ever reads its own
tenant's schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

from portal.users.roles import Role

if TYPE_CHECKING:
    from portal.users.models import User

_M = TypeVar("_M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[_M]):
    """Rows by role: tenant-wide roles see all; the others what their subclass allows."""

    # Roles that may see this kind of row at all. Narrow it on a model that only some
    # tenant-wide roles may read.
    readable_by: frozenset[str] = frozenset(Role.values)

    def visible_to(self, user: Any) -> ScopedQuerySet[_M]:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.role not in self.readable_by:
            return self.none()
        if user.role == Role.TEAM_LEAD:
            return self.for_team_lead(user)
        if user.role == Role.END_CUSTOMER:
            return self.for_end_customer(user)
        return self

    def for_team_lead(self, user: User) -> ScopedQuerySet[_M]:
        return self.none()

    def for_end_customer(self, user: User) -> ScopedQuerySet[_M]:
        return self.none()
