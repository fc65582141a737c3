"""REST shapes of invoice settings, invoice runs, invoices and the reconciliation.

Input serializers check the shape of a request only; `invoices.services` decide the rest,
so the pages and the API refuse alike. Documents come in two shapes: the one end
customers get, and the one with wholesale cost and margins (`shows_margins`).
Amounts are exact decimal text; invoice amounts to the currency's minor unit.
"""

from invoices.serializers.documents import (
    CreditNoteInputSerializer,
    InvoiceDetailSerializer,
    InvoiceMarginDetailSerializer,
    InvoiceMarginSerializer,
    InvoiceSerializer,
    IssueInputSerializer,
    PayInputSerializer,
    VoidInputSerializer,
    line_data,
    money,
)
from invoices.serializers.reconciliation import reconciliation_data
from invoices.serializers.settings import (
    BillingUnitInputSerializer,
    BillingUnitSerializer,
    InvoiceRunInputSerializer,
    InvoiceRunSerializer,
    PlanChargeSerializer,
    PriceRuleSerializer,
    PricingPlanInputSerializer,
    PricingPlanSerializer,
    SellerProfileInputSerializer,
    SellerProfileSerializer,
)

__all__ = [
    "BillingUnitInputSerializer",
    "BillingUnitSerializer",
    "CreditNoteInputSerializer",
    "InvoiceDetailSerializer",
    "InvoiceMarginDetailSerializer",
    "InvoiceMarginSerializer",
    "InvoiceRunInputSerializer",
    "InvoiceRunSerializer",
    "InvoiceSerializer",
    "IssueInputSerializer",
    "PayInputSerializer",
    "PlanChargeSerializer",
    "PriceRuleSerializer",
    "PricingPlanInputSerializer",
    "PricingPlanSerializer",
    "SellerProfileInputSerializer",
    "SellerProfileSerializer",
    "VoidInputSerializer",
    "line_data",
    "money",
    "reconciliation_data",
]
