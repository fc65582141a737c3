from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    FINANCE = "finance", "Finance"
    RESELLER_ADMIN = "reseller_admin", "Reseller admin"
    TEAM_LEAD = "team_lead", "Team lead"
    END_CUSTOMER = "end_customer", "End customer"


# Roles that see every object of their tenant; the others see a scoped part.
TENANT_WIDE_ROLES = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})
