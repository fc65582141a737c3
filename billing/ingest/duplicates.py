"""Bills given more than once: the same file twice in one ingest is read once."""

from __future__ import annotations

from typing import Any


def keep_first_of_each_content(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files with distinct contents (by sha256), each first one as given.

    A later file with the same contents is not read again; its name is kept in the first
    one's `also_given_as`, for `repeat_notes`. Distinct files that share a name get
    "name (2)", "name (3)" ..., so that what the ingest reports names one file.
    """
    kept: dict[str, dict[str, Any]] = {}
    names: dict[str, int] = {}
    for entry in files:
        first = kept.get(entry["sha256"])
        if first is not None:
            first.setdefault("also_given_as", []).append(entry["name"])
            continue
        names[entry["name"]] = names.get(entry["name"], 0) + 1
        if names[entry["name"]] > 1:
            entry = {**entry, "name": f"{entry['name']} ({names[entry['name']]})"}
        kept[entry["sha256"]] = entry
    return list(kept.values())


def repeat_notes(files: list[dict[str, Any]]) -> list[str]:
    """One note per file given again in the same ingest."""
    notes = []
    for entry in files:
        for again in entry.get("also_given_as", []):
            if again == entry["name"]:
                notes.append(f"{again} was given twice: read once.")
            else:
                notes.append(f"{again} has the same contents as {entry['name']}: read once.")
    return notes
