"""Every write to the organization model goes through these services."""

from billing.services.customers import (
    end_customer_create,
    end_customer_update,
    team_create,
    team_update,
)
from billing.services.organizations import (
    UNCHANGED,
    account_create,
    account_update,
    organization_create,
    organization_update,
    ou_create,
    ou_update,
)
from billing.services.transfers import (
    billing_transfer_accept,
    billing_transfer_cancel,
    billing_transfer_decline,
    billing_transfer_invite,
    billing_transfer_withdraw,
    is_active_on,
    month_end,
)
from billing.services.views import billing_view_create, billing_view_update

__all__ = [
    "UNCHANGED",
    "account_create",
    "account_update",
    "billing_transfer_accept",
    "billing_transfer_cancel",
    "billing_transfer_decline",
    "billing_transfer_invite",
    "billing_transfer_withdraw",
    "billing_view_create",
    "billing_view_update",
    "end_customer_create",
    "end_customer_update",
    "is_active_on",
    "month_end",
    "organization_create",
    "organization_update",
    "ou_create",
    "ou_update",
    "team_create",
    "team_update",
]
