"""Notification endpoints and deliveries in the REST API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications.services import EVENTS, secret_hint

KINDS = NotificationEndpoint.Kind.choices
STATUSES = NotificationDelivery.Status.choices
EVENT_CHOICES = [(event, event) for event in EVENTS]


def _one_of(values: list[str]) -> dict[str, Any]:
    """A choice described by a pattern, not an enum: other APIs have a `kind` or `status`
    of their own, and the schema would give every such enum one ambiguous name."""
    return {
        "type": "string",
        "pattern": "^(" + "|".join(v.replace(".", r"\.") for v in values) + ")$",
        "description": "One of: " + ", ".join(f"`{v}`" for v in values) + ".",
        "example": values[0],
    }


@extend_schema_field(_one_of([value for value, _ in KINDS]))
class EndpointKindField(serializers.ChoiceField):
    def __init__(self, **options: Any) -> None:
        super().__init__(choices=KINDS, **options)


@extend_schema_field(_one_of([value for value, _ in STATUSES]))
class DeliveryStatusField(serializers.ChoiceField):
    def __init__(self, **options: Any) -> None:
        super().__init__(choices=STATUSES, **options)


@extend_schema_field(_one_of(list(EVENTS)))
class EventField(serializers.ChoiceField):
    def __init__(self, **options: Any) -> None:
        super().__init__(choices=EVENT_CHOICES, **options)


class NotificationEndpointSerializer(serializers.ModelSerializer[NotificationEndpoint]):
    secret_hint = serializers.SerializerMethodField(
        help_text="A webhook secret's last characters (the secret is shown once, when made)."
    )
    events = serializers.ListField(
        child=EventField(),
        read_only=True,
        help_text='Events it receives; empty means every event but "test".',
    )
    # Read from `endpoint_list()`'s annotations.
    kind = EndpointKindField(read_only=True)
    last_status = DeliveryStatusField(
        read_only=True,
        allow_null=True,
        help_text="The status of its latest delivery; null before the first.",
    )
    last_delivery_at = serializers.DateTimeField(source="last_at", read_only=True, allow_null=True)

    class Meta:
        model = NotificationEndpoint
        fields = [
            "id",
            "name",
            "kind",
            "target",
            "events",
            "active",
            "secret_hint",
            "last_status",
            "last_delivery_at",
            "created_at",
        ]

    def get_secret_hint(self, endpoint: NotificationEndpoint) -> str:
        return secret_hint(endpoint.secret)


class NotificationEndpointWithSecretSerializer(NotificationEndpointSerializer):
    secret = serializers.CharField(
        allow_null=True,
        help_text="A webhook's signing secret, answered only when it was made (on creation "
        "or rotation); null for e-mail.",
    )

    class Meta(NotificationEndpointSerializer.Meta):
        fields = [*NotificationEndpointSerializer.Meta.fields, "secret"]

    def to_representation(self, instance: NotificationEndpoint) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        data["secret"] = instance.secret or None
        return data


class NotificationEndpointInputSerializer(serializers.Serializer[Any]):
    """The services check each value and name the field they refuse."""

    name = serializers.CharField(max_length=200)
    kind = EndpointKindField()
    target = serializers.CharField(
        max_length=2000,
        help_text="E-mail: addresses separated by commas. Webhook: an http(s) URL.",
    )
    events = serializers.ListField(
        child=EventField(),
        required=False,
        max_length=len(EVENTS),
        help_text='Events it receives; empty (the default) means every event but "test".',
    )
    active = serializers.BooleanField(required=False, default=True)


class NotificationDeliverySerializer(serializers.ModelSerializer[NotificationDelivery]):
    endpoint_name = serializers.CharField(source="endpoint.name", read_only=True)
    status = DeliveryStatusField(read_only=True)

    class Meta:
        model = NotificationDelivery
        fields = [
            "id",
            "endpoint",
            "endpoint_name",
            "event",
            "subject_key",
            "subject",
            "payload",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]
