"""A JSON body past the upload limit (`PORTAL_MAX_UPLOAD_BYTES`) is refused in the API's
error shape, naming the limit, without being read whole."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.handlers.wsgi import LimitedStream
from rest_framework.exceptions import APIException

from allocation.models import CostCategory
from portal.core.parsers import BoundedJSONParser
from portal.users.models import User
from tests.conftest import Api, TenantClient
from tests.portal.test_api_errors import assert_error_shape

LIMIT = 1024


@pytest.fixture(autouse=True)
def small_limit(settings: Any) -> None:
    settings.PORTAL_MAX_UPLOAD_BYTES = LIMIT
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT  # as the settings module pairs them


@pytest.fixture
def admin(client_a: TenantClient, admin_a: User) -> Api:
    return Api(client_a, admin_a)


def category_body(size: int) -> str:
    """A cost category as JSON of exactly `size` bytes (blanks after it pad it)."""
    text = json.dumps({"name": "Team", "default_value": ""})
    return text + " " * (size - len(text))


def post_json(admin: Api, body: str, **extra: Any) -> Any:
    return admin.client.post(
        "/api/v1/cost-categories/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=admin.auth,
        **extra,
    )


def test_a_body_past_the_limit_is_refused_naming_the_limit_and_one_at_it_read(
    admin: Api,
) -> None:
    response = post_json(admin, category_body(LIMIT + 1))
    body = assert_error_shape(response, 413, "too_large")
    assert body["message"] == "A JSON body larger than 1 KiB is not accepted."
    assert not CostCategory.objects.exists()

    response = post_json(admin, category_body(LIMIT))
    assert response.status_code == 201, response.content
    assert CostCategory.objects.get().name == "Team"


def test_a_body_announced_past_the_limit_is_refused_before_it_is_read(admin: Api) -> None:
    response = post_json(admin, category_body(100), CONTENT_LENGTH=str(10 * LIMIT))
    assert_error_shape(response, 413, "too_large")
    assert not CostCategory.objects.exists()


def test_the_parser_reads_no_more_than_one_byte_past_the_limit() -> None:
    # A body of unknown length (chunked) is read only until it passes the limit.
    source = io.BytesIO(b"[" + b"1," * (50 * LIMIT) + b"1]")
    stream = LimitedStream(source, len(source.getvalue()))
    request = type("Request", (), {"META": {}})()
    with pytest.raises(APIException) as refused:
        BoundedJSONParser().parse(stream, "application/json", {"request": request})
    assert refused.value.status_code == 413
    assert source.tell() <= LIMIT + 1


def test_a_form_body_past_the_limit_is_refused_in_the_api_shape(admin: Api) -> None:
    response = admin.client.post(
        "/api/v1/cost-categories/",
        {"name": "Team", "default_value": "x" * (2 * LIMIT)},
        HTTP_AUTHORIZATION=admin.auth,
    )
    body = assert_error_shape(response, 413, "too_large")
    assert body["message"] == "A request body larger than 1 KiB is not accepted."
    assert not CostCategory.objects.exists()
