"""Which roles may change what: the write half of the permission layer."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from portal.users.roles import Role

ADMIN_ONLY = frozenset({Role.ADMIN})


def may_write(user: Any, write_roles: frozenset[str]) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role in write_roles)


class RolePermission(BasePermission):
    """Authenticated users read (rows scoped by their queryset); writers need a role.

    A view names its writers in `write_roles` (admins only by default) and may narrow its
    readers with `read_roles`.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS:
            readers = getattr(view, "read_roles", None)
            return readers is None or user.role in readers
        return may_write(user, getattr(view, "write_roles", ADMIN_ONLY))
