from billing.models.customers import EndCustomer, Team
from billing.models.organizations import Account, Organization, OrganizationalUnit
from billing.models.transfers import BillingTransfer, TransferStatus
from billing.models.views import BillingView

__all__ = [
    "Account",
    "BillingTransfer",
    "BillingView",
    "EndCustomer",
    "Organization",
    "OrganizationalUnit",
    "Team",
    "TransferStatus",
]
