"""Reading JSON that people and programs send, with a bound on its nesting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Rule expressions, the deepest JSON the portal takes, nest a dozen levels at most.
MAX_JSON_DEPTH = 64


class JsonTooDeep(ValueError):
    pass


def json_depth(data: Any) -> int:
    """How deep lists and objects nest in `data` (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(data, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, Mapping) else item
        if isinstance(item, (Mapping, list)):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children)
    return deepest


def check_depth(data: Any) -> Any:
    if json_depth(data) > MAX_JSON_DEPTH:
        raise JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep is not accepted.")
    return data


def json_loads_bounded(text: str | bytes) -> Any:
    """`json.loads`, refusing (ValueError) what nests deeper than MAX_JSON_DEPTH."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(
            f"JSON nested more than {MAX_JSON_DEPTH} levels deep is not accepted."
        ) from None
    return check_depth(data)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser; a body nested too deep is a 400 `too_deep`, never a crash."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            return check_depth(data)
        except (RecursionError, JsonTooDeep):
            raise ParseError(
                f"JSON nested more than {MAX_JSON_DEPTH} levels deep is not accepted.",
                code="too_deep",
            ) from None
