"""Rough edges a new user meets first: the menu's links, forbidden pages, the dev server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from portal.devserver import parse_port
from portal.embedded_postgres import live_users
from portal.users.models import Role
from tests.conftest import TenantClient, make_user


def _named_routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(name, route) of every named pattern; a router's `.json` twin of a route is skipped,
    since it serves the same view under the same name on purpose."""
    found: list[tuple[str, str]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_named_routes(pattern.url_patterns, route))
        elif (
            isinstance(pattern, URLPattern)
            and pattern.name
            and "format" not in pattern.pattern.regex.groupindex
        ):
            found.append((pattern.name, route))
    return found


def test_no_url_name_of_a_tenant_site_is_defined_twice() -> None:
    routes_by_name: dict[str, list[str]] = defaultdict(list)
    for name, route in _named_routes(get_resolver("portal.urls_tenant").url_patterns):
        routes_by_name[name].append(route)
    assert {name: routes for name, routes in routes_by_name.items() if len(routes) > 1} == {}


def test_the_users_menu_item_of_an_admin_opens_the_users_page(
    admin_client_a: TenantClient,
) -> None:
    dashboard = admin_client_a.get("/")
    links = re.findall(r'<a href="([^"]+)">Users</a>', dashboard.content.decode())
    assert links == ["/users/"]

    page = admin_client_a.get(links[0])
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "<h1>Users</h1>" in page.content.decode()


def test_a_team_lead_on_an_admin_only_page_is_told_why_and_keeps_the_menu(
    client_a: TenantClient,
) -> None:
    client_a.force_login(make_user(Role.TEAM_LEAD, "tom-lead"))

    response = client_a.get("/audit/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Only admins read the audit log." in html
    assert '<a href="/">Dashboard</a>' in html  # the menu
    assert "tom-lead" in html  # who is signed in, with the log-out button
    assert 'href="/">Back to the dashboard</a>' in html


def test_the_dev_server_takes_its_port_from_the_command_line_or_the_environment(
    monkeypatch: Any,
) -> None:
    monkeypatch.delenv("PORTAL_PORT", raising=False)
    assert parse_port([]) == 8000
    assert parse_port(["--port", "8001"]) == 8001
    monkeypatch.setenv("PORTAL_PORT", "8002")
    assert parse_port([]) == 8002


def test_the_dev_server_refuses_a_port_that_is_not_one(capsys: Any) -> None:
    for wrong in ("http", "0", "70000"):
        with pytest.raises(SystemExit):
            parse_port(["--port", wrong])
        assert f"'{wrong}' is not a port number (1 to 65535)" in capsys.readouterr().err


def test_processes_killed_without_letting_go_do_not_keep_the_database_up() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        listed = [os.getpid(), gone.pid, sleeper.pid]
        assert live_users(listed, own_pid=os.getpid()) == [sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
