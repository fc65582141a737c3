"""The score settings in the REST API: GET and PUT (or PATCH) /api/v1/scores/settings/.

Admins change them; finance, reseller admins and team leads read them (a team lead needs
them to understand their teams' scores); end customers get 403.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.models import ScoreSettings
from insights.scores.compute import rule_tag_keys
from insights.scores.settings import (
    SCORE_SETTINGS_READERS,
    EffectiveSettings,
    score_recompute_state,
    score_settings_get,
    score_settings_update,
)
from insights.scores.signals import COMPONENTS
from portal.core.apis import ScopedAPIMixin
from portal.core.permissions import ADMIN_ONLY
from portal.core.serializers import ExactDecimalField

DECIMAL_INPUT = {
    "oneOf": [
        {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$", "example": "2.5"},
        {"type": "number", "minimum": 0, "maximum": 100},
    ],
    "nullable": True,
    "description": "A decimal; null sets the default again.",
}


@extend_schema_field(
    {
        "type": "object",
        "properties": dict.fromkeys(COMPONENTS, DECIMAL_INPUT),
        "additionalProperties": False,
        "description": "Component key to value; components not named stay as they are.",
    }
)
class ComponentValuesField(serializers.DictField):
    """Kept as given: the service names each unknown key or refused value."""

    child = serializers.JSONField(allow_null=True)


class ScoreSettingsInputSerializer(serializers.Serializer[Any]):
    weights = ComponentValuesField(
        required=False, help_text="Weights from 0 (ignore the component) to 100."
    )
    targets = ComponentValuesField(
        required=False,
        help_text="The percent at which a component scores 100 (above 0, up to 100).",
    )
    required_tag_keys = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="Tag keys every cost should carry (at most 20); replaces the list.",
    )


class ComponentSettingSerializer(serializers.Serializer[Any]):
    key = serializers.ChoiceField(choices=list(COMPONENTS))
    # The metaclass takes declared fields off the class: `label` shadows nothing at run time.
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField(help_text="What the component's percent measures.")
    weight = ExactDecimalField()
    target = ExactDecimalField(help_text="Percent of the eligible cost that scores 100.")
    default_weight = ExactDecimalField()
    default_target = ExactDecimalField()
    weight_is_default = serializers.BooleanField()
    target_is_default = serializers.BooleanField()


class RecomputeSerializer(serializers.Serializer[Any]):
    running = serializers.BooleanField(help_text="Weeks are still being computed again.")
    weeks = serializers.IntegerField(help_text="Stored weeks of teams that have a cost.")
    weeks_done = serializers.IntegerField(help_text="Of those, computed since the last change.")


class ScoreSettingsSerializer(serializers.Serializer[Any]):
    components = ComponentSettingSerializer(many=True)
    required_tag_keys = serializers.ListField(child=serializers.CharField())
    default_required_tag_keys = serializers.ListField(
        child=serializers.CharField(),
        help_text="Required when required_tag_keys is empty: the keys the teams' rules read.",
    )
    recompute = RecomputeSerializer()


def settings_json(effective: EffectiveSettings) -> dict[str, Any]:
    data = {
        "components": effective.components,
        "required_tag_keys": effective.required_tag_keys,
        "default_required_tag_keys": rule_tag_keys(),
        "recompute": score_recompute_state(),
    }
    return dict(ScoreSettingsSerializer(data).data)


class ScoreSettingsApi(ScopedAPIMixin, APIView):
    """The weights and targets of the team scores, with their defaults, and the tag keys
    every cost should carry. A change recomputes every stored week in the background."""

    model = ScoreSettings
    read_roles = SCORE_SETTINGS_READERS
    write_roles = ADMIN_ONLY

    def get_queryset(self) -> models.QuerySet[Any]:
        # Tenant-wide settings, no rows of anyone's: `read_roles` decides who reads them.
        return ScoreSettings.objects.all()

    @extend_schema(responses=ScoreSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(settings_json(score_settings_get()))

    @extend_schema(request=ScoreSettingsInputSerializer, responses=ScoreSettingsSerializer)
    def put(self, request: Request) -> Response:
        serializer = ScoreSettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        effective = score_settings_update(actor=request.user, **serializer.validated_data)
        return Response(settings_json(effective))

    @extend_schema(request=ScoreSettingsInputSerializer, responses=ScoreSettingsSerializer)
    def patch(self, request: Request) -> Response:
        return self.put(request)
