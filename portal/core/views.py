"""Base classes for pages: scoped reads, role checks for writes."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponseBase

from portal.core.permissions import ADMIN_ONLY, may_write


class ScopedViewMixin(LoginRequiredMixin):
    """Rows come only from the model's `visible_to(user)`; subclasses set `model`."""

    model: Any
    request: Any

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.visible_to(self.request.user)


class WriteRoleRequiredMixin(LoginRequiredMixin):
    """Only the roles in `write_roles` may open this page."""

    write_roles: ClassVar[frozenset[str]] = ADMIN_ONLY

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not may_write(request.user, self.write_roles):
            raise PermissionDenied("Your role may not change this.")
        return super().dispatch(request, *args, **kwargs)
