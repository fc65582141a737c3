"""Recommendations imported from an AWS Cost Optimization Hub export, given to teams.

`recommendations_import` reads the export (see `insights.scores.hub_export` for the columns
read: recommendationId, accountId, estimatedMonthlySavings required; region, resourceId or
resourceArn, actionType, currentResourceType, recommendedResourceType, the resource
summaries, estimatedMonthlyCost, estimatedSavingsPercentage, currencyCode and tags when
present, in camelCase, title case or the Data Exports' snake_case), finds each row's team
(`insights.scores.team_match`: the teams' category rules on the tags, a tag naming a team,
the account's owner team) and stores the matched rows, replacing earlier imports of the
same recommendation id. Rows without a team are reported, not stored; rows that cannot be
read are refused with their line and column.

`imported_for_team` gives a team's stored rows as `Recommendation`s.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from billing.models import Team
from insights.models import ImportedRecommendation
from insights.scores.hub_export import HubRow, Refusal, read_export
from insights.scores.recommendations import Recommendation
from insights.scores.team_match import TeamMatcher
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError

SOURCE = "cost_optimization_hub"
COMPONENT = "imported"
CENT = Decimal("0.01")
UPDATED = [
    "team",
    "category",
    "owner_account",
    "region",
    "resource_id",
    "action",
    "current",
    "suggested",
    "monthly_saving",
    "currency",
    "reasoning",
    "imported_at",
]


@dataclass(frozen=True)
class Matched:
    line: int
    recommendation_id: str
    team: str
    how: str  # "rule", "tag" or "account"
    monthly_saving: Decimal
    currency: str


@dataclass(frozen=True)
class Unmatched:
    line: int
    recommendation_id: str
    account: str
    resource: str
    reason: str


@dataclass(frozen=True)
class TeamTotal:
    team: str
    count: int
    savings: dict[str, Decimal]  # monthly, per currency


@dataclass
class ImportReport:
    name: str
    rows: int = 0  # data rows in the file
    matched: list[Matched] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    removed: int = 0  # stored rows dropped: by --replace, or now without a team

    def per_team(self) -> list[TeamTotal]:
        counts: dict[str, int] = defaultdict(int)
        savings: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for row in self.matched:
            counts[row.team] += 1
            savings[row.team][row.currency] += row.monthly_saving
        return [TeamTotal(team, counts[team], dict(savings[team])) for team in sorted(counts)]


def recommendations_import(
    *,
    actor: Any,
    path: Path | str | None = None,
    file: IO[bytes] | None = None,
    name: str = "",
    replace: bool = False,
    today: date | None = None,
) -> ImportReport:
    """Import an export given as `path` or as an open binary `file`; `replace` drops every
    earlier imported row first. ApplicationError when the file cannot be read."""
    if (path is None) == (file is None):
        raise ApplicationError("Give the export as a path or as a file.", code="required")
    if path is not None:
        try:
            with open(path, "rb") as stream:
                return _import(actor, stream, name or Path(path).name, replace, today)
        except OSError as exc:
            raise ApplicationError(
                f"Cannot open {path}: {exc.strerror or exc}.", code="unreadable", field="file"
            ) from exc
    assert file is not None
    return _import(actor, file, name or getattr(file, "name", "") or "export", replace, today)


@transaction.atomic
def _import(
    actor: Any, stream: IO[bytes], name: str, replace: bool, today: date | None
) -> ImportReport:
    export = read_export(stream)
    report = ImportReport(name=Path(name).name, rows=export.lines, refused=export.refused)
    matcher = TeamMatcher(
        today=today or timezone.localdate(), account_ids={r.account_id for r in export.rows}
    )
    found: list[ImportedRecommendation] = []
    for row in export.rows:
        match = matcher.match(row)
        if match is None:
            report.unmatched.append(
                Unmatched(
                    row.line,
                    row.recommendation_id,
                    row.account_id,
                    row.resource_id,
                    matcher.why_not(row),
                )
            )
            continue
        found.append(_stored(row, match.team))
        report.matched.append(
            Matched(
                row.line,
                row.recommendation_id,
                match.team.name,
                match.how,
                row.monthly_saving,
                row.currency,
            )
        )
    earlier = ImportedRecommendation.objects.filter(source=SOURCE)
    if not replace:
        # The new file's word wins: a recommendation it gives no team loses the old one.
        earlier = earlier.filter(
            recommendation_id__in=[u.recommendation_id for u in report.unmatched]
        )
    dropped = earlier.select_related("team").first()
    report.removed = earlier.delete()[0]
    for recommendation in found:
        recommendation.full_clean(
            exclude=["team"], validate_unique=False, validate_constraints=False
        )
    stored = ImportedRecommendation.objects.bulk_create(
        found,
        update_conflicts=True,
        unique_fields=["source", "recommendation_id"],
        update_fields=UPDATED,
    )
    audited = stored[0] if stored else dropped
    if audited is not None:
        audit_record(
            actor=actor,
            action="importedrecommendation.import",
            instance=audited,
            after={
                "file": report.name,
                "source": SOURCE,
                "replace": replace,
                "rows": report.rows,
                "stored": len(stored),
                "unmatched": len(report.unmatched),
                "refused": len(report.refused),
                "removed": report.removed,
                "teams": {t.team: t.count for t in report.per_team()},
            },
        )
    return report


def _stored(row: HubRow, team: Team) -> ImportedRecommendation:
    return ImportedRecommendation(
        team=team,
        source=SOURCE,
        recommendation_id=row.recommendation_id,
        category=row.category,
        owner_account=row.account_id,
        region=row.region,
        resource_id=row.resource_id,
        action=row.action,
        current=row.current,
        suggested=row.suggested,
        monthly_saving=row.monthly_saving,
        currency=row.currency,
        reasoning=row.reasoning,
    )


def imported_for_team(
    team: Team, *, category: str | None = None, owner: str | None = None
) -> list[Recommendation]:
    """The team's imported recommendations, largest saving first; `owner` as in
    `team_recommendations`: an account id or the team's name."""
    rows = ImportedRecommendation.objects.filter(team=team)
    if category:
        rows = rows.filter(category=category)
    if owner and owner != team.name:
        rows = rows.filter(owner_account=owner)
    return [
        Recommendation(
            category=row.category,
            component=COMPONENT,
            owner_account=row.owner_account,
            owner_team=team.name,
            resource_id=row.resource_id or None,
            current=row.current,
            suggested=row.suggested,
            monthly_saving=row.monthly_saving.quantize(CENT),
            reasoning=row.reasoning,
        )
        for row in rows.order_by("-monthly_saving", "recommendation_id")
    ]
