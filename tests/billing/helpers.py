"""Assertions the billing service tests share."""

from __future__ import annotations

from typing import Any

import pytest

from portal.audit.models import AuditEntry
from portal.audit.services import snapshot
from portal.core.errors import ApplicationError


def refused(code: str) -> Any:
    """Expect an ApplicationError with `code`; `.value` holds it afterwards."""
    return pytest.raises(ApplicationError, check=lambda e: e.code == code)


def audit_values(action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values before and after of the one audit entry for `action`."""
    entry = AuditEntry.objects.get(action=action)
    return entry.before or {}, entry.after or {}


def unchanged(instance: Any) -> bool:
    """The row in the database still holds what `instance` holds."""
    return snapshot(type(instance).objects.get(pk=instance.pk)) == snapshot(instance)
