"""What the end-customer login tests share: Globex (priced, with a login) and Initech."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billing.models import EndCustomer
from billing.services.customers import end_customer_create
from tests.insights.world import A2, World, account, build_world

GOOD_PASSWORD = "Globex-cost-2026"


@pytest.fixture
def world(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """Globex (account A1, priced; its login world-customer) and Initech (A2, no login)."""
    world = build_world(tmp_path, monkeypatch)
    end_customer_create(actor=None, legal_name="Initech", accounts=[account(A2)])
    return world


@pytest.fixture
def initech(world: World) -> EndCustomer:
    return EndCustomer.objects.get(legal_name="Initech")
