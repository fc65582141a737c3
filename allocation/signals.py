"""What the allocation tells the apps built on it (which it must not import)."""

from django.dispatch import Signal

# Sent with `run` once a run has succeeded and replaced the period's earlier runs.
run_succeeded = Signal()
