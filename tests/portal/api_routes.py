"""The tenant API's routes, read from the URLconf, for tests that try every endpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
PARAMETER = re.compile(r"\(\?P<\w+>[^)]*\)|<(?:\w+:)?\w+>")


@dataclass(frozen=True)
class Route:
    path: str  # under /api/v1/, parameters as written in the URLconf
    methods: frozenset[str]
    view: Any
    actions: dict[str, str]

    @property
    def is_list(self) -> bool:
        return self.actions.get("get") == "list"


def _walk(patterns: list[Any], prefix: str) -> list[tuple[str, Any]]:
    found = []
    for pattern in patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            found.append((text, pattern.callback))
    return found


def api_routes() -> list[Route]:
    """Every route under /api/v1/ with the methods its view answers (format suffixes left out)."""
    routes = []
    for path, callback in _walk(get_resolver("portal.urls_tenant").url_patterns, ""):
        if not path.startswith(API_PREFIX) or "format" in path:
            continue
        view = getattr(callback, "cls", None)
        if view is None:
            continue
        actions = dict(getattr(callback, "actions", None) or {})
        if actions:
            methods = frozenset(actions)
        else:
            methods = frozenset(m for m in view.http_method_names if hasattr(view, m))
        routes.append(Route(path[len(API_PREFIX) :], methods - {"options", "head"}, view, actions))
    return routes


def concrete(path: str, pk: str = "987654") -> str:
    """The route's address with every parameter filled in."""
    return "/api/v1/" + PARAMETER.sub(pk, path)
