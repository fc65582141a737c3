"""The operation and commitment of the explorer estate's cost lines (`bench.explorer_data`).

EC2 instances run Linux (RunInstances) or, an eighth of them, Windows (RunInstances:0002);
instance usage billed below its public price is covered by a commitment: a Savings Plan
for EC2, a reservation for RDS. Drawn from their own seed, so that the estate's other
draws stay as they were.
"""

from __future__ import annotations

import numpy as np

OPERATIONS = ("RunInstances", "RunInstances:0002")  # Linux, Windows
COMMITMENTS = ("Savings Plan", "Reserved Instance")
WINDOWS_SHARE = 0.125
SEED = 20260302


def instance_facts(
    usage_types: list[str], combos: dict[str, np.ndarray], *, usage_category: int
) -> dict[str, np.ndarray]:
    """Per cost line, "operation" and "commitment": indexes into OPERATIONS and
    COMMITMENTS, -1 for none."""
    kinds = np.array([u.partition(":")[0] for u in usage_types] + [""])[combos["usage"]]
    windows = np.random.default_rng(SEED).random(len(kinds)) < WINDOWS_SHARE
    covered = (combos["category"] == usage_category) & (combos["effective"] < 1)
    commitment = np.select(
        [
            covered & (kinds == "BoxUsage"),
            covered & np.isin(kinds, ("InstanceUsage", "Multi-AZUsage")),
        ],
        [COMMITMENTS.index("Savings Plan"), COMMITMENTS.index("Reserved Instance")],
        -1,
    )
    ec2 = np.isin(kinds, ("BoxUsage", "SpotUsage"))
    return {"operation": np.where(ec2, windows.astype(int), -1), "commitment": commitment}
