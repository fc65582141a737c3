"""The rule builder's model (static/allocation/rule_model.js), tested by node's own runner.

The builder is plain JavaScript without a build step or npm packages, so its pure part is
tested where it runs: under node, with the tests in tests/js/. The fields, operators and
methods it offers are the server's, checked here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from allocation import expressions, rules
from allocation.models import SplitMethod

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


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_builder_knows_the_fields_operators_and_methods_the_server_accepts() -> None:
    node = shutil.which("node")
    assert node is not None
    script = (
        "import('./static/allocation/rule_model.js').then((m) => console.log(JSON.stringify("
        "[m.FIELDS, m.VALUE_OPS, m.PRESENCE_OPS, m.METHODS, m.MAX_DEPTH, m.ACCOUNT_NAME])))"
    )

    result = subprocess.run(
        [node, "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )

    assert json.loads(result.stdout) == [
        list(expressions.FIELDS),
        list(expressions.VALUE_OPS),
        list(expressions.PRESENCE_OPS),
        list(SplitMethod.values),
        expressions.MAX_DEPTH,
        rules.ACCOUNT_NAME,
    ]
