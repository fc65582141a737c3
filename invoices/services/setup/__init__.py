"""Invoice settings: the seller profile, pricing plans (rules, fees, credits), billing units.

Admins, finance and reseller admins change these (see `invoices.apis.SETUP_WRITERS`);
every change is one audited transaction. A refusal names the field at fault, for a
plan's rules and charges as `rules[2].percent` or `charges[0].last_month` (the row's
index in the list given).
"""

from invoices.services.setup.plans import pricing_plan_create, pricing_plan_update
from invoices.services.setup.seller import seller_profile_update
from invoices.services.setup.units import billing_unit_create, billing_unit_update

__all__ = [
    "billing_unit_create",
    "billing_unit_update",
    "pricing_plan_create",
    "pricing_plan_update",
    "seller_profile_update",
]
