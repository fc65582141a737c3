"""A messy file reports every issue in its counts, and a bounded number of rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from billing.ingest import summaries
from billing.ingest.contract import IssueKind
from billing.ingest.findings import EXAMPLES_PER_KIND, Findings
from billing.ingest.normalize.common import EXAMPLE_ROWS, IssueLog
from tests.billing.ingest_fakes import batch, line


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


def test_summary_groups_are_merged_once_they_grow(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [line(sub_account_id=f"2100000000{i % 7:02d}", billed_cost="0.5") for i in range(70)]
    groups = summaries.group_batch(batch(rows).table)
    assert groups is not None and groups.num_rows == 7
    kept = [groups] * 3
    assert summaries.compact(kept) is kept  # few rows: left as they are
    monkeypatch.setattr(summaries, "COMPACT_AT_ROWS", 10)
    merged = summaries.compact(kept)
    assert len(merged) == 1 and merged[0].num_rows == 7
    assert {str(v) for v in merged[0].column("billed_cost").to_pylist()} == {
        "15.000000000000000000"
    }
