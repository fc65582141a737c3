"""Production settings (PORTAL_HTTPS=1) pass Django's deployment check; local HTTP still works.

Settings are read once per process, so each case starts its own Python.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
SHOWN = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_DEBUG": "0",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def security_settings(**env: str) -> dict[str, Any]:
    names = ", ".join(repr(name) for name in SHOWN)
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in ({names})}}))"
    )
    result = run("-c", code, **env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_production_settings_pass_the_deployment_check_without_a_warning() -> None:
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", PORTAL_HTTPS="1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_https_redirects_and_sends_hsts_for_a_year_with_subdomains() -> None:
    shown = security_settings(PORTAL_HTTPS="1")

    assert shown == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
    }


def test_hsts_length_and_preload_can_be_set() -> None:
    shown = security_settings(PORTAL_HTTPS="1", PORTAL_HSTS_SECONDS="600", PORTAL_HSTS_PRELOAD="0")

    assert shown["SECURE_HSTS_SECONDS"] == 600
    assert shown["SECURE_HSTS_PRELOAD"] is False
    assert shown["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_local_plain_http_neither_redirects_nor_pins_https() -> None:
    shown = security_settings(PORTAL_HTTPS="0")

    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_HSTS_SECONDS"] == 0
    assert shown["SESSION_COOKIE_SECURE"] is False
