"""The rule builder's model (static/allocation/rule_model.js), tested by node's own runner.

The builder is plain JavaScript without a build step or npm packages, so its pure part is
tested where it runs: under node, with the tests in tests/js/.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_rule_model_passes_its_node_tests() -> None:
    node = shutil.which("node")
    assert node is not None

    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
