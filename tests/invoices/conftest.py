from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.allocation.run_helpers import use_fake_files
from tests.billing.ingest_fakes import FakeFiles


@pytest.fixture
def files(tenant_a: Any, tmp_path: Path, monkeypatch: Any) -> FakeFiles:
    return use_fake_files(tmp_path, monkeypatch)


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
