"""Accounts under attack: parallel guessing, revoked tokens, host names in any case."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from portal.users import services
from portal.users.models import Role, User
from tests.committed import committed_tenant
from tests.conftest import PASSWORD, TenantClient, api_token, make_user

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


NEW_PASSWORD = "another-Staple-lamp-7"


@pytest.fixture
def finance_token(client_a: TenantClient) -> tuple[User, str]:
    user = make_user(Role.FINANCE, "fiona-finance")
    return user, api_token(client_a, user.username)


def _answers(client: TenantClient, token: str) -> int:
    return int(client.get("/api/v1/users/", HTTP_AUTHORIZATION=f"Token {token}").status_code)


def test_an_admin_setting_a_password_through_the_api_revokes_the_users_tokens(
    client_a: TenantClient, admin_a: User, finance_token: tuple[User, str]
) -> None:
    user, old_token = finance_token
    admin = f"Token {api_token(client_a, admin_a.username)}"
    assert _answers(client_a, old_token) == 200

    changed = client_a.patch(
        f"/api/v1/users/{user.pk}/",
        {"password": NEW_PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=admin,
    )

    assert changed.status_code == 200
    assert _answers(client_a, old_token) == 401
    assert _answers(client_a, api_token(client_a, user.username, NEW_PASSWORD)) == 200
    assert _answers(client_a, admin.split()[1]) == 200


def test_changing_ones_own_password_on_the_user_page_revokes_ones_tokens(
    client_a: TenantClient, admin_a: User
) -> None:
    old_token = api_token(client_a, admin_a.username)
    client_a.force_login(admin_a)

    page = client_a.post(
        f"/users/{admin_a.pk}/",
        {"role": Role.ADMIN, "is_active": "on", "password": NEW_PASSWORD},
    )

    assert page.status_code == 302
    assert _answers(client_a, old_token) == 401


def test_the_changepassword_command_revokes_the_users_tokens(
    client_a: TenantClient, finance_token: tuple[User, str], monkeypatch: Any
) -> None:
    user, old_token = finance_token
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", user.username, stdout=StringIO())

    assert _answers(client_a, old_token) == 401
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
