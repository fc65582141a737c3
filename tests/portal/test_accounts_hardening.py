"""Accounts under attack: parallel guessing, revoked tokens, host names in any case."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from portal.users import services
from portal.users.models import User
from tests.committed import committed_tenant
from tests.conftest import PASSWORD, TenantClient, api_token

SCHEMA = "lockout_t"
HOST = "lockout-t.test.localhost"
GUESSES = 40


@pytest.fixture(scope="module")
def guessed_tenant(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """A committed tenant whose first user is `admin`, so threads see it."""
    with committed_tenant(django_db_blocker, SCHEMA):
        yield


def _guess_in_parallel(monkeypatch: Any) -> tuple[int, list[int]]:
    """40 wrong passwords for `admin` at once, half on the API, half on the login page;
    how many reached the password check, and each answer's status."""
    checks = 0
    counted = threading.Lock()
    check_password = services.authenticate

    def counting_check(*args: Any, **kwargs: Any) -> Any:
        nonlocal checks
        with counted:
            checks += 1
        return check_password(*args, **kwargs)

    monkeypatch.setattr(services, "authenticate", counting_check)
    statuses: list[int] = []
    start = threading.Barrier(GUESSES)

    def guess(index: int) -> None:
        client = TenantClient(HOST)
        try:
            start.wait()
            if index % 2:
                body = {"username": "admin", "password": f"wrong-{index}"}
                answer = client.post("/api/v1/auth/token/", body, content_type="application/json")
            else:
                answer = client.post("/login/", {"username": "admin", "password": f"no-{index}"})
            statuses.append(answer.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    monkeypatch.undo()
    return checks, statuses


def test_parallel_guesses_check_the_password_at_most_five_times(
    guessed_tenant: None, db: Any, monkeypatch: Any
) -> None:
    checks, statuses = _guess_in_parallel(monkeypatch)

    assert len(statuses) == GUESSES
    assert checks <= 5
    client = TenantClient(HOST)
    right = client.post(
        "/api/v1/auth/token/",
        {"username": "admin", "password": PASSWORD},
        content_type="application/json",
    )
    assert right.status_code == 400
    assert right.json()["code"] == "login_throttled"
    page = client.post("/login/", {"username": "ADMIN", "password": PASSWORD})
    assert b"Too many failed logins" in page.content


@pytest.mark.parametrize(
    "host",
    [
        "ALPHA.TEST.LOCALHOST",
        "Alpha.Test.Localhost:8000",
        "alpha.test.localhost.",
        "ALPHA.TEST.LOCALHOST.:443",
    ],
)
def test_host_names_match_in_any_case_with_or_without_port_and_trailing_dot(
    admin_a: User, host: str
) -> None:
    client = TenantClient(host)

    login = client.post("/login/", {"username": admin_a.username, "password": PASSWORD})
    dashboard = client.get("/")
    token = api_token(client, admin_a.username)
    users = client.get("/api/v1/users/", HTTP_AUTHORIZATION=f"Token {token}")

    assert login.status_code == 302
    assert dashboard.status_code == 200 and b"Alpha" in dashboard.content
    assert users.status_code == 200
    assert admin_a.username in users.content.decode()
