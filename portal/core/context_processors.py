from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(connection, "tenant", None)
    return {
        "current_tenant": tenant,
        "is_public_site": getattr(tenant, "schema_name", "public") == "public",
    }
