"""Tag sets: each distinct tag JSON is stored once and line items keep its id."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from portal.core.parsers import MAX_JSON_DEPTH, JsonTooDeep, check_depth


def canonical_tags(text: str) -> tuple[str, str]:
    """The tags as canonical JSON (sorted keys, numbers exactly as read) and its SHA-256.

    The text comes from the tag normalizer, which bounds its nesting and numbers; the
    bound is checked again here so that no text can recurse without end.
    """
    try:
        tags = check_depth(json.loads(text, parse_float=Decimal))
    except RecursionError:
        raise JsonTooDeep(f"Tags nested more than {MAX_JSON_DEPTH} levels deep.") from None
    canonical = _canonical_json(tags)
    return canonical, hashlib.sha256(canonical.encode()).hexdigest()


def _canonical_json(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"))`, with Decimals exact
    (as floats they would lose digits, or turn into Infinity, which jsonb refuses)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical_json(item) for item in value) + "]"
    return json.dumps(value)


class TagSetResolver:
    """Maps tag JSON texts to tag set ids, inserting new sets as it meets them.

    It writes on its own autocommit connection: tag sets are immutable and shared, so a
    load that fails later leaves at most unused sets behind, and concurrent loads never
    wait on each other's long transactions.
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.ids: dict[str, int] = {}

    def ids_for(self, tags: pa.ChunkedArray | pa.Array) -> pa.Array:
        """One id (as text) per row, null where the row has no tags."""
        if isinstance(tags, pa.ChunkedArray):
            tags = tags.combine_chunks()
        encoded = pc.dictionary_encode(tags)
        texts = encoded.dictionary.to_pylist()
        self._resolve([text for text in texts if text not in self.ids])
        ids = pa.array([str(self.ids[text]) for text in texts], pa.string())
        return pc.take(ids, encoded.indices)

    def _resolve(self, texts: list[str]) -> None:
        if not texts:
            return
        canonical = [canonical_tags(text) for text in texts]
        digests = [digest for _, digest in canonical]
        with self.connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO billing_tagset (digest, tags) "
                "SELECT * FROM unnest(%s::text[], %s::jsonb[]) "
                "ON CONFLICT (digest) DO NOTHING",
                (digests, [tags for tags, _ in canonical]),
            )
            cursor.execute(
                "SELECT digest, id FROM billing_tagset WHERE digest = ANY(%s)", (digests,)
            )
            by_digest = dict(cursor.fetchall())
        for text, digest in zip(texts, digests, strict=True):
            self.ids[text] = by_digest[digest]
