from billing.models.costs import CostLineItem, CostRollup, TagKey, TagSet
from billing.models.cubes import CostCube, DailyTagCost
from billing.models.customers import EndCustomer, Team
from billing.models.ingests import (
    IngestIssue,
    IngestJob,
    IngestPeriodSum,
    IngestStatus,
    LoadedPeriod,
)
from billing.models.organizations import Account, Organization, OrganizationalUnit
from billing.models.resources import ResourceWeekCost
from billing.models.transfers import BillingTransfer, TransferStatus
from billing.models.views import BillingView

__all__ = [
    "Account",
    "BillingTransfer",
    "BillingView",
    "CostCube",
    "CostLineItem",
    "CostRollup",
    "DailyTagCost",
    "EndCustomer",
    "IngestIssue",
    "IngestJob",
    "IngestPeriodSum",
    "IngestStatus",
    "LoadedPeriod",
    "Organization",
    "OrganizationalUnit",
    "ResourceWeekCost",
    "TagKey",
    "TagSet",
    "Team",
    "TransferStatus",
]
