"""Notifications in the REST API, admins only: /api/v1/notification-endpoints/ (list,
create; one endpoint: read, change, delete; its test-send and secret rotation) and
/api/v1/notification-deliveries/ (the delivery log)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications import services
from insights.notifications.selectors import delivery_list, endpoint_list
from insights.notifications.serializers import (
    NotificationDeliverySerializer,
    NotificationEndpointInputSerializer,
    NotificationEndpointSerializer,
    NotificationEndpointWithSecretSerializer,
)
from portal.api_schema import NOT_JSON
from portal.core.apis import ScopedAPIMixin
from portal.core.filters import choice_filter, id_filter
from portal.core.parsers import BoundedJSONParser
from portal.core.permissions import ADMIN_ONLY


class NotificationEndpointApi(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Where notifications go: e-mail addresses or signed webhooks. A webhook's secret is
    answered once, when made (creation, rotation); afterwards only its last characters."""

    model = NotificationEndpoint
    read_roles = ADMIN_ONLY
    write_roles = ADMIN_ONLY
    parser_classes = [BoundedJSONParser]
    serializer_class = NotificationEndpointSerializer
    input_serializer_class = NotificationEndpointInputSerializer

    def get_queryset(self) -> Any:
        # Admins only (`read_roles`): every endpoint of the tenant.
        return endpoint_list()

    def _answer(
        self,
        endpoint: NotificationEndpoint,
        code: int = status.HTTP_200_OK,
        with_secret: bool = False,
    ) -> Response:
        row = endpoint_list().get(pk=endpoint.pk)  # with its latest delivery
        serializer = (
            NotificationEndpointWithSecretSerializer
            if with_secret
            else NotificationEndpointSerializer
        )
        return Response(serializer(row).data, status=code)

    @extend_schema(summary="List notification endpoints")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A notification endpoint")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=NotificationEndpointInputSerializer,
        responses={201: NotificationEndpointWithSecretSerializer, 415: NOT_JSON},
        summary="Create a notification endpoint",
        description="A webhook's signing secret is in this answer only: keep it.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = NotificationEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(actor=request.user, **data.validated_data)
        return self._answer(endpoint, status.HTTP_201_CREATED, with_secret=True)

    @extend_schema(
        request=NotificationEndpointInputSerializer,
        responses={200: NotificationEndpointSerializer, 415: NOT_JSON},
        summary="Change a notification endpoint",
        description="An endpoint that becomes a webhook gets a secret: rotate it to read it.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        data = NotificationEndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            actor=request.user, endpoint=endpoint, **data.validated_data
        )
        return self._answer(endpoint)

    @extend_schema(
        responses={204: None}, summary="Delete a notification endpoint and its delivery log"
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.endpoint_delete(actor=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={201: NotificationDeliverySerializer},
        summary="Send a test message to the endpoint",
        description='A delivery of the event "test", sent in the background like any other '
        "(also to an inactive endpoint); follow it in notification-deliveries.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.endpoint_test_send(actor=request.user, endpoint=self.get_object())
        return Response(
            NotificationDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=None,
        responses={200: NotificationEndpointWithSecretSerializer},
        summary="Give a webhook a new signing secret",
        description="The old secret stops working at once; the new one is in this answer "
        "only. Refused (400) for an e-mail endpoint.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        endpoint = services.endpoint_rotate_secret(actor=request.user, endpoint=self.get_object())
        return self._answer(endpoint, with_secret=True)


class NotificationDeliveryApi(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Each event sent to each endpoint: its payload, attempts and outcome, newest first."""

    model = NotificationDelivery
    read_roles = ADMIN_ONLY
    serializer_class = NotificationDeliverySerializer
    query_filters = (
        id_filter("endpoint", "Only deliveries to this endpoint."),
        choice_filter("status", NotificationDelivery.Status.values, "Only in this status."),
    )

    def get_queryset(self) -> Any:
        return delivery_list()

    @extend_schema(summary="List notification deliveries, newest first")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A notification delivery")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)
