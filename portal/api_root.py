"""GET /api/v1/: every resource of the API by name, with its absolute address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

RESOURCE_INDEX = {
    "type": "object",
    "description": "Each resource's name (its path under /api/v1/) and absolute address.",
    "additionalProperties": {"type": "string", "format": "uri"},
}


def _named_patterns(patterns: list[Any]) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _named_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def api_resources(request: Request) -> dict[str, str]:
    """Name → absolute URL of every address of the API that needs no id."""
    from portal import api_urls  # the URLs import this module

    root = reverse("api-root")
    resources: dict[str, str] = {}
    for name in _named_patterns(api_urls.urlpatterns):
        try:
            address = reverse(name)
        except NoReverseMatch:
            continue  # a row's own address: reached from its list
        label = address.removeprefix(root).strip("/")
        if label:
            resources[label] = request.build_absolute_uri(address)
    return dict(sorted(resources.items()))


class ApiRootApi(APIView):
    """The API's resources, for a signed-in user of the tenant."""

    @extend_schema(responses={200: RESOURCE_INDEX}, summary="List the API's resources")
    def get(self, request: Request) -> Response:
        return Response(api_resources(request))
