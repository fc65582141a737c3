"""A messy file reports every issue in its counts, and a bounded number of rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from billing.ingest.contract import IssueKind
from billing.ingest.findings import EXAMPLES_PER_KIND, Findings
from billing.ingest.normalize.common import EXAMPLE_ROWS, IssueLog


def test_every_occurrence_is_counted_but_only_the_first_rows_are_kept() -> None:
    rows = 5 * EXAMPLE_ROWS
    log = IssueLog("bill.csv", first_line=2, n=rows)
    values = pa.array(["NULL"] * rows)
    log.interpret("Tags", np.ones(rows, dtype=bool), values, "the literal NULL is read as null")
    log.reject("BilledCost", np.arange(rows) % 2 == 0, values, "BilledCost is not a number")

    assert log.counts == {
        ("bill.csv", "Tags", "the literal NULL is read as null", "interpreted"): rows,
        ("bill.csv", "BilledCost", "BilledCost is not a number", "rejected"): rows // 2,
    }
    assert len(log.issues()) == 2 * EXAMPLE_ROWS
    assert int(log.rejected.sum()) == rows // 2  # every bad row is rejected, listed or not
    first = log.issues()[0]
    assert (first.row, first.column, first.kind) == (2, "Tags", IssueKind.INTERPRETED)


def test_findings_add_counts_across_batches_and_keep_a_bounded_number_of_rows() -> None:
    findings = Findings()
    for first_line in (2, 2 + 3 * EXAMPLE_ROWS):
        log = IssueLog("bill.csv", first_line=first_line, n=3 * EXAMPLE_ROWS)
        mask = np.ones(3 * EXAMPLE_ROWS, dtype=bool)
        log.interpret("Tags", mask, pa.array(["NULL"] * mask.size), "NULL read as null")
        findings.add(log.issues(), log.counts)

    assert findings.as_counts() == {
        "bill.csv | Tags | NULL read as null | interpreted": 6 * EXAMPLE_ROWS
    }
    assert len(findings.examples) == EXAMPLES_PER_KIND
