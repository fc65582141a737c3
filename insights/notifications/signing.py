"""How a webhook is signed, and how its receiver checks the signature.

The signature is HMAC-SHA256 with the endpoint's secret over `"<timestamp>.<raw body>"`,
sent as `X-Portal-Signature: v1=<hex>` next to `X-Portal-Timestamp: <unix seconds>`. The
timestamp inside the signed text lets a receiver refuse an old request replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_VERSION = "v1"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | str) -> str:
    """The `X-Portal-Signature` value of `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(
    *, secret: str, body: bytes, event: str, delivery_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one webhook request."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": "FinOps-Portal-Webhook/1",
        "X-Portal-Event": event,
        "X-Portal-Delivery": delivery_id,
        "X-Portal-Timestamp": str(stamp),
        "X-Portal-Signature": sign(secret, body, stamp),
    }


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | int,
    signature: str,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `signature` (the header) signs `body` with `secret` at `timestamp`, and the
    timestamp is within `tolerance_seconds` of now. The header may hold several
    comma-separated signatures (e.g. while a secret is rotated); one valid one is enough."""
    try:
        stamp = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, stamp)
    found = False
    for candidate in signature.split(","):
        # Compare every candidate, in constant time each, so timing tells nothing.
        found |= hmac.compare_digest(candidate.strip().encode(), expected.encode())
    return found
