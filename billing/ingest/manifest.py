"""AWS report manifests: a JSON file that lists the data files of one report."""

from __future__ import annotations

import json
from pathlib import Path

from billing.ingest.contract import BillFileError


def expand_manifests(paths: list[Path]) -> list[Path]:
    """Each manifest replaced by its data files (found beside it), other paths as given."""
    expanded: list[Path] = []
    for path in paths:
        keys = _report_keys(path)
        if keys is None:
            expanded.append(path)
            continue
        for key in keys:
            part = path.parent / key.rsplit("/", 1)[-1]
            if not part.is_file():
                raise BillFileError(path.name, f"lists {key}, but {part.name} is not beside it")
            expanded.append(part)
    return expanded


def _report_keys(path: Path) -> list[str] | None:
    """The manifest's report keys, or None if the file is not a manifest."""
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        if handle.read(1) != b"{":
            return None
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    keys = manifest.get("reportKeys") if isinstance(manifest, dict) else None
    if not isinstance(keys, list) or not keys:
        return None
    return [str(key) for key in keys]
