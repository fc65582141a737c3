"""Collecting what the readers rejected or interpreted, for the ingest's report."""

from __future__ import annotations

from collections import Counter

from billing.ingest.contract import IssueKey, RowIssue
from billing.models import IngestIssue, IngestJob

# Rows kept per distinct (file, column, message, kind); all are counted.
EXAMPLES_PER_KIND = 1000


class Findings:
    def __init__(self) -> None:
        self.counts: Counter[IssueKey] = Counter()
        self.examples: list[RowIssue] = []

    def add(self, issues: list[RowIssue], counts: dict[IssueKey, int]) -> None:
        """Keep the first examples of each kind; count all (readers count beyond examples)."""
        kept: Counter[IssueKey] = Counter()
        for issue in issues:
            key = (issue.file, issue.column, issue.message, str(issue.kind))
            kept[key] += 1
            if self.counts[key] + kept[key] <= EXAMPLES_PER_KIND:
                self.examples.append(issue)
        self.counts.update(counts or kept)

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
