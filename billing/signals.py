"""What billing tells the apps built on it (which it must not import)."""

from django.dispatch import Signal

# Sent with `months` (first days) whose payers of record a billing transfer changed, in the
# task that applied it; receivers recompute what they derived from them (open drafts).
payers_of_record_changed = Signal()
