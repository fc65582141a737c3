"""Tags: one JSON object per row with normalized keys, or null when a row has none.

Keys lose the `user:` prefix (legacy CUR `resourceTags/user:team`, FOCUS `user:team`) or
`user_` (CUR 2.0 and Athena-style Parquet `user_team`); provider keys such as
`aws:createdBy` keep theirs. Then `tag_aliases` (alias -> canonical, matched without regard
to case) apply. When two source keys land on the same key, the first non-empty value wins
and one interpreted issue is recorded per source key and file. Empty and null values are
dropped; other JSON scalars are kept as they are (a valueless FOCUS tag is `true`).
A row whose tag text nests deeper than MAX_JSON_DEPTH or holds a number no store can keep
loses its tags, reported like text that is not a JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.normalize.common import Cache, IssueLog, as_array, mask_of
from portal.core.parsers import MAX_JSON_DEPTH

_CONTROL = r"[\x00-\x1f]"
# Far inside what PostgreSQL's numeric (in jsonb) keeps, far outside any real tag.
MAX_NUMBER_DIGITS = 1000

NOT_AN_OBJECT = "is not a JSON object"
TOO_DEEP = f"nests more than {MAX_JSON_DEPTH} levels deep"
NUMBER_TOO_LARGE = f"holds a number of more than {MAX_NUMBER_DIGITS} digits"


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs, duplicates kept."""


class _NumberTooLarge(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _NumberTooLarge(text)
    return int(text)


def _bounded_decimal(text: str) -> Decimal:
    value = Decimal(text)
    if (
        len(value.as_tuple().digits) > MAX_NUMBER_DIGITS
        or abs(value.adjusted()) > MAX_NUMBER_DIGITS
    ):
        raise _NumberTooLarge(text)
    return value


def _too_deep(text: str, parsed: Any) -> bool:
    """Whether `parsed` nests deeper than MAX_JSON_DEPTH; counting brackets first keeps the
    common flat object from being walked."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    pending = [(parsed, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, _Pairs | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = [v for _, v in item] if isinstance(item, _Pairs) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def json_string(values: pa.Array) -> pa.Array:
    """Each string as a quoted JSON string (null stays null), vectorized."""
    values = as_array(values)
    control = mask_of(pc.match_substring_regex(values, _CONTROL))
    escaped = pc.replace_substring(values, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    if control.any():
        index = np.flatnonzero(control)
        fixed = [
            json.dumps(v, ensure_ascii=False) for v in values.take(pa.array(index)).to_pylist()
        ]
        quoted = pc.replace_with_mask(quoted, pa.array(control), pa.array(fixed, pa.string()))
    return quoted


def join_pieces(pieces: list[pa.Array], n: int) -> pa.Array:
    """`{piece,piece}` per row from the non-null pieces; null where all are null."""
    joined: pa.Array = pa.nulls(n, pa.string())
    for piece in pieces:
        both = pc.binary_join_element_wise(joined, piece, ",")
        joined = pc.coalesce(both, joined, piece)
    return pc.binary_join_element_wise("{", joined, "}", "")


def _combinations(columns: list[pa.Array], n: int) -> pa.DictionaryArray:
    """One code per row for its combination of values over `columns`."""
    combined = np.zeros(n, dtype=np.int64)
    bound = 1
    for values in columns:
        encoded = pc.dictionary_encode(values)
        cardinality = len(encoded.dictionary) + 1
        if bound * cardinality >= 2**62:
            recoded = pc.dictionary_encode(pa.array(combined))
            combined = np.asarray(recoded.indices, dtype=np.int64)
            bound = len(recoded.dictionary)
        code = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)) + 1
        combined = combined * cardinality + code
        bound *= cardinality
    return pc.dictionary_encode(pa.array(combined))


def _dump(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | _Pairs):
        pairs = value.items() if isinstance(value, dict) else value
        return "{" + ",".join(f"{_dump(k)}:{_dump(v)}" for k, v in pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class TagNormalizer:
    """Normalizes the tags of one file; remembers which key clashes it already reported."""

    def __init__(self, aliases: Mapping[str, str] | None, prefixes: tuple[str, ...]) -> None:
        self.aliases = {alias.lower(): key for alias, key in (aliases or {}).items()}
        self.prefixes = prefixes
        self.reported: set[tuple[str, str]] = set()
        self._parse = Cache(self._normalize_json)

    def key(self, raw: str) -> str:
        for prefix in self.prefixes:
            if raw.startswith(prefix):
                raw = raw[len(prefix) :]
                break
        return self.aliases.get(raw.lower(), raw)

    # -- one column per tag (legacy CUR) --------------------------------------------------

    def from_columns(
        self, columns: list[tuple[str, str, pa.Array]], n: int, log: IssueLog
    ) -> pa.Array:
        """`columns` are (source column, raw key, values with empties already null).

        Rows are grouped by their combination of tag values (resources repeat), the JSON
        is built once per combination and then taken for every row.
        """
        groups: dict[str, list[str]] = {}
        for column, raw, _ in columns:
            groups.setdefault(self.key(raw), []).append(column)
        for key, members in groups.items():
            for column in members[1:]:
                if (column, key) not in self.reported:
                    self.reported.add((column, key))
                    log.add_at(-1, column, column, self._clash(key, members[0]))
        combination = _combinations([values for _, _, values in columns], n)
        first_row = np.empty(len(combination.dictionary), dtype=np.int64)
        order = np.arange(n - 1, -1, -1)
        first_row[np.asarray(combination.indices)[order]] = order
        sample = pa.array(first_row)
        by_column = {column: values.take(sample) for column, _, values in columns}
        pieces = []
        for key, members in groups.items():
            values = pc.coalesce(*[by_column[column] for column in members])
            prefix = json.dumps(key, ensure_ascii=False) + ":"
            pieces.append(pc.binary_join_element_wise(prefix, json_string(values), ""))
        return join_pieces(pieces, len(first_row)).take(combination.indices)

    @staticmethod
    def _clash(key: str, first: str) -> str:
        return (
            f"tag key read as '{key}', like {first}; where both have a value, "
            "the first non-empty one is kept"
        )

    # -- a JSON object per row (FOCUS Tags, CUR 2.0 resource_tags) ------------------------

    def from_json(self, values: pa.Array, column: str, log: IssueLog) -> pa.Array:
        encoded = pc.dictionary_encode(as_array(values))
        results = [self._parse(text) for text in encoded.dictionary.to_pylist()]
        out = pa.array([r[0] for r in results], pa.string()).take(encoded.indices)
        for problem in {r[1] for r in results} - {None}:
            bad = pa.array([r[1] == problem for r in results], pa.bool_()).take(encoded.indices)
            log.interpret(column, mask_of(bad), values, f"{column} {problem}: the tags are dropped")
        indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        for position, (_, _, clashes) in enumerate(results):
            for raw, key, first in clashes:
                if (raw, key) in self.reported:
                    continue
                self.reported.add((raw, key))
                row = int(np.argmax(indices == position))
                log.add_at(row, column, raw, self._clash(key, f"tag '{first}'"))
        return out

    def from_map(self, values: pa.Array, column: str, log: IssueLog) -> pa.Array:
        """A map<string, string> column (CUR 2.0 Parquet) via its JSON text."""
        values = as_array(values)
        if isinstance(values, pa.MapArray):
            keys = json_string(values.keys)
            items = pc.if_else(
                values.items.is_null(), "null", json_string(values.items.cast(pa.string()))
            )
            pieces = pc.binary_join_element_wise(keys, items, ":")
            lists = pa.ListArray.from_arrays(values.offsets, pieces, mask=values.is_null())
            text = pc.binary_join_element_wise("{", pc.binary_join(lists, ","), "}", "")
            return self.from_json(text, column, log)
        return self.from_json(values, column, log)

    def _normalize_json(
        self, text: str
    ) -> tuple[str | None, str | None, list[tuple[str, str, str]]]:
        """(normalized JSON or None, why it was dropped, clashes as (source key, key, first))."""
        try:
            pairs = json.loads(
                text,
                object_pairs_hook=_Pairs,
                parse_float=_bounded_decimal,
                parse_int=_bounded_int,
            )
        except _NumberTooLarge:
            return None, NUMBER_TOO_LARGE, []
        except RecursionError:
            return None, TOO_DEEP, []
        except ValueError:
            return None, NOT_AN_OBJECT, []
        if not isinstance(pairs, _Pairs):
            return None, NOT_AN_OBJECT, []
        if _too_deep(text, pairs):
            return None, TOO_DEEP, []
        tags: dict[str, Any] = {}
        first: dict[str, str] = {}
        clashes = []
        for raw, value in pairs:
            key = self.key(raw)
            if key in first:
                clashes.append((raw, key, first[key]))
            first.setdefault(key, raw)
            if value is not None and value != "" and key not in tags:
                tags[key] = value
        return (_dump(tags) if tags else None), None, clashes
