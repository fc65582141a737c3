"""What billing tells the apps built on it (which it must not import)."""

from django.dispatch import Signal

# Sent with `months` (first days) whose payers of record a billing transfer changed, in the
# task that applied it; receivers recompute what they derived from them (open drafts).
payers_of_record_changed = Signal()

# Sent with `months` (ISO first days of the billing periods stored) after an ingest stored
# bills, once its transaction committed; receivers refresh what reads recent cost.
bills_published = Signal()
