"""Base classes for REST endpoints: scoped reads, writes through services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db import models
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from portal.core.permissions import ADMIN_ONLY

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ScopedAPIMixin:
    """Rows come only from the model's `visible_to(user)`; subclasses set `model`."""

    model: ClassVar[type[models.Model]]
    write_roles: ClassVar[frozenset[str]] = ADMIN_ONLY
    request: Any

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.visible_to(self.request.user)  # type: ignore[attr-defined]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication and permissions: an unreadable body is refused (400) before
        the view looks anything up, so every endpoint answers it alike."""
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.method in BODY_METHODS:
            _ = request.data


class ServiceViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List, retrieve, create and change through services.

    `serializer_class` renders rows; `input_serializer_class` validates writes, whose
    data go as keyword arguments to `create_service(actor=..., **data)` or
    `update_service(actor=..., instance=..., **data)`.
    """

    input_serializer_class: ClassVar[type[serializers.Serializer[Any]]]
    create_service: ClassVar[Callable[..., models.Model] | None] = None
    update_service: ClassVar[Callable[..., models.Model] | None] = None

    def _input(self, request: Request, *, partial: bool = False) -> dict[str, Any]:
        serializer = self.input_serializer_class(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _render(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service = type(self).create_service
        if service is None:
            return Response(status=status.HTTP_405_METHOD_NOT_ALLOWED)
        instance = service(actor=request.user, **self._input(request))
        return self._render(instance, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service = type(self).update_service
        if service is None:
            return Response(status=status.HTTP_405_METHOD_NOT_ALLOWED)
        instance = self.get_object()
        data = self._input(request, partial=True)
        return self._render(service(actor=request.user, instance=instance, **data))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)
