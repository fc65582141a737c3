"""Collecting what the readers rejected or interpreted, for the ingest's report."""

from __future__ import annotations

from collections import Counter

from billing.ingest.contract import RowIssue
from billing.models import IngestIssue, IngestJob

# Rows kept per distinct (file, column, message, kind); all are counted.
EXAMPLES_PER_KIND = 50


class Findings:
    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.examples: list[RowIssue] = []
        self.rejected_rows: set[tuple[str, int]] = set()

    def add(self, issues: list[RowIssue]) -> None:
        for issue in issues:
            key = (issue.file, issue.column, issue.message, str(issue.kind))
            self.counts[key] += 1
            if self.counts[key] <= EXAMPLES_PER_KIND:
                self.examples.append(issue)
            if issue.kind == "rejected":
                self.rejected_rows.add((issue.file, issue.row))

    def as_counts(self) -> dict[str, int]:
        return {" | ".join(key): count for key, count in sorted(self.counts.items())}

    def save(self, job: IngestJob) -> None:
        IngestIssue.objects.filter(job=job).delete()
        IngestIssue.objects.bulk_create(
            IngestIssue(
                job=job,
                kind=str(issue.kind),
                file=issue.file[:255],
                row=issue.row,
                column=issue.column[:255],
                value=issue.value[:1000],
                message=issue.message,
            )
            for issue in self.examples
        )
