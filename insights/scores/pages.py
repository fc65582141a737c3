"""Team credit scores as the home pages show them: a team's latest week, its trend, and
its components; the league of all teams. Reads only; a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max

from billing.models import LoadedPeriod, Team
from insights.models import ImportedRecommendation, TeamScore
from insights.scores.compute import settings_values
from insights.scores.signals import COMPONENTS
from insights.selectors import DEFAULT_CURRENCY

TREND_WEEKS = 12
TOP_RECOMMENDATIONS = 3
HUNDRED = Decimal(100)
LABELS = {
    "commitment_coverage": "Commitment coverage",
    "graviton": "Graviton",
    "current_generation": "Current-generation instances",
    "spot": "Spot",
    "ebs_volume_type": "EBS volume types (gp3, io2)",
    "s3_storage_class": "S3 storage classes",
    "tag_compliance": "Tag compliance",
    "budget_adherence": "Budget adherence",
}
EXPLAINED = {
    "commitment_coverage": "cost covered by Savings Plans or reservations",
    "graviton": "instance cost on Graviton",
    "current_generation": "instance cost on current-generation families",
    "spot": "instance cost on Spot",
    "ebs_volume_type": "volume cost on gp3 or io2",
    "s3_storage_class": "storage cost outside S3 Standard",
    "tag_compliance": "cost carrying the required tags",
    "budget_adherence": "cost within budget",
}
EXPLANATION = (
    "Each week, the cost allocated to a team is sorted into components. A component's value "
    "is the share of its eligible cost already on the efficient option, scaled so that its "
    "target scores 100 (beyond the target still 100). The score is the weighted mean of the "
    "components that apply: those some of the team's cost is eligible for. Savings are "
    "monthly estimates at the rates of AWS's efficiency dashboards. The weights and targets "
    "are the tenant's score settings:"
)


@dataclass(frozen=True)
class ComponentLine:
    key: str
    applicable: bool
    value: Decimal | None  # percent of the eligible cost already efficient
    target: Decimal
    weight: Decimal
    eligible_cost: Decimal
    potential_saving: Decimal  # monthly

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key.replace("_", " ").capitalize())

    @property
    def bar(self) -> Decimal:
        """The bar's width in percent: the value, kept to 0-100."""
        return max(Decimal(0), min(HUNDRED, self.value or Decimal(0)))

    @property
    def target_mark(self) -> Decimal:
        return max(Decimal(0), min(HUNDRED, self.target))

    @property
    def reached(self) -> bool:
        return self.value is not None and self.value >= self.target


@dataclass(frozen=True)
class Advice:
    """A recommendation as the home page lists it."""

    category: str
    current: str
    suggested: str
    resource_id: str
    owner_account: str
    monthly_saving: Decimal
    reasoning: str
    imported: bool


@dataclass(frozen=True)
class TrendPoint:
    week: date
    score: Decimal | None


@dataclass
class TeamCard:
    team: Team
    week: date | None = None  # the team's latest scored week
    score: Decimal | None = None
    previous: Decimal | None = None  # the week before's score
    trend: list[TrendPoint] = field(default_factory=list)
    components: list[ComponentLine] = field(default_factory=list)
    recommendations: list[Advice] = field(default_factory=list)
    stored_recommendations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.week is not None

    @property
    def week_label(self) -> str:
        return f"{self.week:%G-W%V}" if self.week else ""

    @property
    def change(self) -> Decimal | None:
        """Points against the week before; None when either week has no score."""
        if self.score is None or self.previous is None:
            return None
        return self.score - self.previous

    @property
    def applicable(self) -> list[ComponentLine]:
        return [c for c in self.components if c.applicable]

    @property
    def not_applicable(self) -> list[ComponentLine]:
        return [c for c in self.components if not c.applicable]

    @property
    def biggest_saving(self) -> ComponentLine | None:
        savings = [c for c in self.applicable if c.potential_saving > 0]
        return savings[0] if savings else None

    def trend_json(self) -> dict[str, Any]:
        """For the chart: scores as text, None where the week has none."""
        return {
            "team": self.team.name,
            "weeks": [f"{p.week:%G-W%V}" for p in self.trend],
            "starts": [p.week.isoformat() for p in self.trend],
            "scores": [None if p.score is None else str(p.score) for p in self.trend],
        }


@dataclass
class ScoreBoard:
    cards: list[TeamCard]
    currency: str
    weights: dict[str, Decimal]
    targets: dict[str, Decimal]
    explanation: str = EXPLANATION

    @property
    def scored(self) -> bool:
        return any(card.scored for card in self.cards)

    @property
    def explained(self) -> list[tuple[str, str, Decimal, Decimal]]:
        """(label, what its percent measures, weight, target) of each component."""
        return [
            (LABELS[key], EXPLAINED[key], self.weights[key], self.targets[key])
            for key in COMPONENTS
        ]

    def trends_json(self) -> list[dict[str, Any]]:
        return [card.trend_json() | {"id": card.team.pk} for card in self.cards if card.scored]


def components_of(score: TeamScore) -> list[ComponentLine]:
    """The stored components, largest monthly saving first, those not applicable last."""
    lines = [
        ComponentLine(
            key=raw["key"],
            applicable=bool(raw.get("applicable")),
            value=None if raw.get("value") is None else Decimal(raw["value"]),
            target=Decimal(str(raw.get("target") or 0)),
            weight=Decimal(str(raw.get("weight") or 0)),
            eligible_cost=Decimal(str(raw.get("eligible_cost") or 0)),
            potential_saving=Decimal(str(raw.get("potential_saving") or 0)),
        )
        for raw in score.components
    ]
    order = {key: n for n, key in enumerate(COMPONENTS)}
    lines.sort(key=lambda c: (not c.applicable, -c.potential_saving, order.get(c.key, 99)))
    return lines


def score_board(*, user: Any, weeks: int = TREND_WEEKS) -> ScoreBoard:
    """The scores of the teams `user` sees: five queries, whatever the number of teams."""
    teams = list(Team.objects.visible_to(user).order_by("name"))
    visible = TeamScore.objects.visible_to(user).filter(team__in=teams)
    latest = visible.aggregate(latest=Max("week"))["latest"] if teams else None
    cards = {team.pk: TeamCard(team=team) for team in teams}
    if latest is not None:
        first = latest - timedelta(weeks=weeks - 1)
        found: dict[int, dict[date, TeamScore]] = {}
        for row in visible.filter(week__gte=first).order_by("week"):
            found.setdefault(row.team_id, {})[row.week] = row
        for team_id, rows in found.items():
            _fill(cards[team_id], rows, first, weeks)
        _advise(cards)
    weights, targets = settings_values()
    return ScoreBoard(
        cards=list(cards.values()),
        currency=_currency(latest),
        weights=weights,
        targets=targets,
    )


def _fill(card: TeamCard, rows: dict[date, TeamScore], first: date, weeks: int) -> None:
    newest = rows[max(rows)]
    before = rows.get(newest.week - timedelta(weeks=1))
    card.week, card.score = newest.week, newest.score
    card.previous = before.score if before is not None else None
    card.components = components_of(newest)
    card.stored_recommendations = newest.recommendations
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    card.trend = [TrendPoint(w, rows[w].score if w in rows else None) for w in starts]


def _advise(cards: dict[int, TeamCard]) -> None:
    """Each scored card's largest recommendations: those stored with its week's score and
    those imported for the team (one query for all teams)."""
    imported: dict[int, list[Advice]] = {}
    rows = ImportedRecommendation.objects.filter(team_id__in=list(cards)).order_by(
        "-monthly_saving"
    )
    for row in rows:
        found = imported.setdefault(row.team_id, [])
        if len(found) < TOP_RECOMMENDATIONS:
            found.append(
                Advice(row.category, row.current, row.suggested, row.resource_id,
                       row.owner_account, row.monthly_saving, row.reasoning, True)
            )  # fmt: skip
    for card in cards.values():
        stored = [
            Advice(r["category"], r["current"], r["suggested"], r.get("resource_id") or "",
                   r["owner_account"], Decimal(r["monthly_saving"]), r["reasoning"], False)
            for r in card.stored_recommendations
        ]  # fmt: skip
        merged = sorted([*stored, *imported.get(card.team.pk, [])], key=_by_saving)
        card.recommendations = merged[:TOP_RECOMMENDATIONS]


def _by_saving(advice: Advice) -> tuple[Decimal, str]:
    return (-advice.monthly_saving, advice.resource_id)


def league(board: ScoreBoard) -> list[TeamCard]:
    """Best score first; then teams whose latest week has no score, then those never scored."""
    return sorted(
        board.cards,
        key=lambda c: (c.score is None, not c.scored, -(c.score or 0), c.team.name.lower()),
    )


def _currency(week: date | None) -> str:
    """The currency of the bills of the week's months: the one the costs were summed in."""
    if week is None:
        return DEFAULT_CURRENCY
    months = {week.replace(day=1), (week + timedelta(days=6)).replace(day=1)}
    found: set[str] = set()
    for currencies in LoadedPeriod.objects.filter(billing_period_start__in=months).values_list(
        "currencies", flat=True
    ):
        found.update(currencies)
    return "/".join(sorted(found)) if found else DEFAULT_CURRENCY
