"""Who reads budgets and who changes them, for the pages and the API alike."""

from __future__ import annotations

from insights.models import Budget
from portal.users.roles import Role

# Tenant-wide roles read all budgets, team leads their teams' (Budget.objects.visible_to).
BUDGET_READERS = Budget.objects.none().readable_by
BUDGET_WRITERS = frozenset({Role.ADMIN, Role.FINANCE})
