"""Pricing plans, billing units, invoices and credit notes."""

from invoices.models.documents import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    NumberSequence,
)
from invoices.models.plans import (
    ChargeBasis,
    ChargeKind,
    CostBasis,
    PlanCharge,
    PriceRule,
    PricingPlan,
)
from invoices.models.runs import InvoiceRun, InvoiceRunStatus
from invoices.models.units import BillingUnit, SellerProfile

__all__ = [
    "BillingUnit",
    "ChargeBasis",
    "ChargeKind",
    "CostBasis",
    "DocumentKind",
    "Invoice",
    "InvoiceLine",
    "InvoiceRun",
    "InvoiceRunStatus",
    "InvoiceStatus",
    "LineKind",
    "NumberSequence",
    "PlanCharge",
    "PriceRule",
    "PricingPlan",
    "SellerProfile",
]
