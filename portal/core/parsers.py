"""Reading JSON that people and programs send, with a bound on its size and its nesting."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, JSONParser

from portal.core.sizes import size_text

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


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def body_too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"A JSON body larger than {size_text(limit)} is not accepted.")


def bounded_body(stream: Any, parser_context: Mapping[str, Any] | None) -> bytes:
    """The request body, refused (413) past PORTAL_MAX_UPLOAD_BYTES, announced or read."""
    limit = int(settings.PORTAL_MAX_UPLOAD_BYTES)
    if announced_length(parser_context) > limit:
        raise body_too_large(limit)
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise body_too_large(limit)
    return bytes(body)


def announced_length(parser_context: Mapping[str, Any] | None) -> int:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class BoundedJSONParser(BaseParser):
    """DRF's JSON parser with bounds: a body larger than PORTAL_MAX_UPLOAD_BYTES is a 413
    `too_large`, read no further than the limit; one nested too deep is a 400 `too_deep`.

    Not a `JSONParser` subclass on purpose: DRF reads such a parser's body through
    `request.body`, whose own limit ends in a bare 400 that does not name the limit.
    """

    media_type = JSONParser.media_type
    renderer_class = JSONParser.renderer_class

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = bounded_body(stream, parser_context)
        try:
            data = JSONParser().parse(io.BytesIO(body), media_type, parser_context)
            return check_depth(data)
        except (RecursionError, JsonTooDeep):
            raise ParseError(
                f"JSON nested more than {MAX_JSON_DEPTH} levels deep is not accepted.",
                code="too_deep",
            ) from None
