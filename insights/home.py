"""The logged-in home page's data, per role, read from the cost explorer.

Every figure is the month to date (the 1st up to and including `today`) against the same
days of last month, as `CostQuery.previous` defines them. The number of queries does not
depend on the data: a fixed set of explorer questions per role, and a few small lists.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.urls import reverse

from billing.models import (
    Account,
    BillingTransfer,
    IngestJob,
    IngestStatus,
    LoadedPeriod,
    Team,
)
from billing.models.transfers import TransferStatus
from billing.selectors import latest_cost_day
from insights.models import Anomaly, Budget, BudgetAlert
from insights.query import (
    MAX_LIMIT,
    OTHERS,
    CostAnswer,
    CostGroup,
    CostQuery,
    PeriodChange,
    Point,
    month_to_date,
)
from insights.selectors import cost_explorer, explorer_options
from invoices.models import Invoice
from invoices.models.documents import InvoiceStatus
from portal.users.roles import TENANT_WIDE_ROLES, Role

CHART_GROUPS = 6  # the chart's stacks: the largest six, the rest as "Others"
MOVERS = 5
LOADED_BILLS = 6
INVOICES = 5
ANOMALY_DAYS = 14  # anomalies still worth a look on the home page
# What each role's cost is: an end customer sees its resale price, and only that.
METRIC_LABELS = {"billed_cost": "Billed cost", "resale": "Cost", "margin": "Margin"}


@dataclass(frozen=True)
class MonthFigures(PeriodChange):
    """One metric's month to date against the same days of last month."""

    label: str
    currency: str
    today: date
    total: Decimal
    previous_total: Decimal
    previous_start: date
    previous_end: date  # exclusive
    # The last day the month's bills have cost on: they arrive a day or so late, so the
    # run rate is of the days they cover, not of every day so far.
    cost_through: date | None = None

    @property
    def start(self) -> date:
        return self.today.replace(day=1)

    @property
    def previous_last_day(self) -> date:
        return self.previous_end - timedelta(days=1)

    @property
    def days_elapsed(self) -> int:
        return (self.cost_through or self.today).day

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.today.year, self.today.month)[1]

    @property
    def projection(self) -> Decimal:
        return projected_month_end(self.total, today=self.cost_through or self.today)


@dataclass(frozen=True)
class Mover(PeriodChange):
    """A service or account whose cost moved the most against the same days of last month."""

    name: str
    total: Decimal
    previous_total: Decimal


@dataclass(frozen=True)
class TeamLine:
    team: Team
    total: Decimal | None  # None: no cost of the team this month


@dataclass(frozen=True)
class AttentionItem:
    text: str
    url: str


@dataclass
class Home:
    role: str
    month: MonthFigures
    chart: CostAnswer
    chart_label: str  # what the chart's stacks are: "service" or "team"
    extra_figures: list[MonthFigures] = field(default_factory=list)
    service_movers: list[Mover] = field(default_factory=list)
    account_movers: list[Mover] = field(default_factory=list)
    teams: list[TeamLine] = field(default_factory=list)
    loaded_bills: list[LoadedPeriod] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    attention: list[AttentionItem] = field(default_factory=list)

    @property
    def has_cost(self) -> bool:
        """Whether any cost is loaded for this month (a month may sum to zero with credits)."""
        answer = self.chart
        return bool(answer.total) or any(
            point.amount for group in answer.groups for point in group.series
        )


def projected_month_end(total: Decimal, *, today: date) -> Decimal:
    """The month's end at the run rate so far: `total` per day elapsed, times its days."""
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    return total * days_in_month / today.day


def month_figures(
    answer: CostAnswer, *, label: str, today: date, through: date | None = None
) -> MonthFigures:
    """`through`: the last day the month's bills cover (`latest_cost_day`), if known."""
    previous_start, previous_end = answer.query.previous
    return MonthFigures(
        label=label,
        currency=answer.currency,
        today=today,
        total=answer.total,
        previous_total=answer.previous_total,
        previous_start=previous_start,
        previous_end=previous_end,
        cost_through=min(through, today) if through and through >= today.replace(day=1) else None,
    )


def top_movers(answer: CostAnswer, *, count: int = MOVERS) -> list[Mover]:
    """The groups with the largest absolute change, largest first; unchanged ones left out."""
    movers = [
        Mover(name=group.key, total=group.total, previous_total=group.previous_total)
        for group in answer.groups
        if not group.is_others and group.change
    ]
    movers.sort(key=lambda mover: (-abs(mover.change), mover.name))
    return movers[:count]


def top_groups(answer: CostAnswer, *, count: int) -> CostAnswer:
    """`answer` with all but its `count` largest groups folded into Others, as the explorer
    folds them with `limit=count`: its groups come ranked, so one question serves both the
    chart and the movers."""
    ranked = [group for group in answer.groups if not group.is_others]
    rest = [group for group in answer.groups if group.is_others] + ranked[count:]
    groups = ranked[:count]
    if rest:
        series: dict[date, Decimal] = {}
        for group in rest:
            for point in group.series:
                series[point.date] = series.get(point.date, Decimal(0)) + point.amount
        width = len(answer.query.group_by)
        groups.append(
            CostGroup(
                keys=(OTHERS,) * width,
                total=sum((group.total for group in rest), Decimal(0)),
                previous_total=sum((group.previous_total for group in rest), Decimal(0)),
                series=[Point(date=day, amount=amount) for day, amount in series.items()],
            )
        )
    return replace(answer, query=replace(answer.query, limit=count), groups=groups)


def home_for(*, user: Any, today: date) -> Home:
    """What `user`'s home page shows on `today`."""
    if user.role == Role.TEAM_LEAD:
        return _team_lead_home(user, today)
    if user.role == Role.END_CUSTOMER:
        return _end_customer_home(user, today)
    if user.role in TENANT_WIDE_ROLES:
        return _tenant_home(user, today)
    raise ValueError(f"No home page for the role {user.role!r}.")


def _ask(user: Any, today: date, **query: Any) -> CostAnswer:
    start, end = month_to_date(today)
    return cost_explorer(user=user, query=CostQuery(start=start, end=end, **query))


def _tenant_home(user: Any, today: date) -> Home:
    through = latest_cost_day(today)
    services = _ask(user, today, group_by=("service",), limit=MAX_LIMIT)
    chart = top_groups(services, count=CHART_GROUPS)
    home = Home(
        role=user.role,
        month=month_figures(
            chart, label=METRIC_LABELS["billed_cost"], today=today, through=through
        ),
        chart=chart,
        chart_label="service",
    )
    if user.role == Role.RESELLER_ADMIN and _may_price(user):
        home.extra_figures = [
            month_figures(
                _ask(user, today, metric=metric, granularity="monthly"),
                label=label,
                today=today,
                through=through,
            )
            for metric, label in (("resale", "Resale"), ("margin", "Margin"))
        ]
    home.service_movers = top_movers(services)
    home.account_movers = _named_accounts(
        user, top_movers(_ask(user, today, group_by=("account",), limit=MAX_LIMIT))
    )
    home.loaded_bills = loaded_bills(user)
    home.attention = attention_for(user) + watch_attention(user, today)
    return home


def _may_price(user: Any) -> bool:
    """Whether resale and margin exist yet: they need an end customer with a pricing plan."""
    metrics = {metric["key"] for metric in explorer_options(user=user)["metrics"]}
    return {"resale", "margin"} <= metrics


def _named_accounts(user: Any, movers: list[Mover]) -> list[Mover]:
    """Accounts by name and id, where the organization tree names them."""
    accounts = Account.objects.visible_to(user).filter(account_id__in=[m.name for m in movers])
    names = dict(accounts.values_list("account_id", "name"))
    return [
        replace(mover, name=f"{names[mover.name]} ({mover.name})")
        if names.get(mover.name)
        else mover
        for mover in movers
    ]


def _team_lead_home(user: Any, today: date) -> Home:
    through = latest_cost_day(today)
    # The explorer keeps a team lead to the costs allocated to their teams.
    teams_cost = _ask(user, today, group_by=("team",), limit=MAX_LIMIT)
    chart = top_groups(teams_cost, count=CHART_GROUPS)
    totals = {group.keys[0]: group.total for group in teams_cost.groups if not group.is_others}
    teams = Team.objects.visible_to(user).order_by("name")
    return Home(
        role=user.role,
        month=month_figures(
            chart, label=METRIC_LABELS["billed_cost"], today=today, through=through
        ),
        chart=chart,
        chart_label="team",
        service_movers=top_movers(_ask(user, today, group_by=("service",), limit=MAX_LIMIT)),
        teams=[TeamLine(team=team, total=totals.get(team.name)) for team in teams],
        attention=watch_attention(user, today),
    )


def _end_customer_home(user: Any, today: date) -> Home:
    through = latest_cost_day(today)
    # Folded here rather than by the explorer, so a plan's fees fold in with the rest.
    services = _ask(user, today, metric="resale", group_by=("service",), limit=MAX_LIMIT)
    chart = top_groups(services, count=CHART_GROUPS)
    invoices = Invoice.objects.visible_to(user).order_by("-issue_date", "-period", "-pk")
    return Home(
        role=user.role,
        month=month_figures(chart, label=METRIC_LABELS["resale"], today=today, through=through),
        chart=chart,
        chart_label="service",
        invoices=list(invoices[:INVOICES]),
    )


def loaded_bills(user: Any) -> list[LoadedPeriod]:
    """The latest bills: newest period first (a demo or a backfill loads many at once)."""
    bills = LoadedPeriod.objects.visible_to(user).order_by(
        "-billing_period_start", "-loaded_at", "billing_account_id"
    )
    return list(bills[:LOADED_BILLS])


def attention_for(user: Any) -> list[AttentionItem]:
    """What waits for someone of the tenant: transfers to answer, ingests, drafts."""
    items = []
    pending = BillingTransfer.objects.visible_to(user).filter(status=TransferStatus.PENDING)
    if count := pending.count():
        items.append(
            AttentionItem(
                f"{count} billing transfer invitation{'s' if count > 1 else ''} "
                f"await{'' if count > 1 else 's'} an answer.",
                reverse("transfer-list"),
            )
        )
    jobs = IngestJob.objects.visible_to(user)
    latest = jobs.only("pk", "status", "message").first()
    if latest is not None and latest.status == IngestStatus.FAILED:
        items.append(
            AttentionItem(
                f"The latest ingest (#{latest.pk}) failed: {_first_line(latest.message)}",
                reverse("ingest-detail", args=[latest.pk]),
            )
        )
    if running := jobs.filter(status__in=[IngestStatus.QUEUED, IngestStatus.RUNNING]).count():
        items.append(
            AttentionItem(
                f"{running} ingest{'s are' if running > 1 else ' is'} queued or running.",
                reverse("ingest-list"),
            )
        )
    drafts = Invoice.objects.visible_to(user).filter(status=InvoiceStatus.DRAFT).count()
    if drafts:
        items.append(
            AttentionItem(
                f"{drafts} draft invoice{'s' if drafts > 1 else ''} not issued yet.",
                f"{reverse('invoice-list')}?status={InvoiceStatus.DRAFT}",
            )
        )
    return items


def watch_attention(user: Any, today: date) -> list[AttentionItem]:
    """Budgets past a threshold this month and recent anomalies nobody has reviewed."""
    items = []
    alerted = sorted(
        set(
            BudgetAlert.objects.filter(
                threshold__budget__in=Budget.objects.visible_to(user),
                fired_at__date__gte=today.replace(day=1),
            ).values_list("threshold__budget__name", flat=True)
        )
    )
    if alerted:
        names = ", ".join(alerted[:3]) + (" and more" if len(alerted) > 3 else "")
        plural = len(alerted) > 1
        items.append(
            AttentionItem(
                f"{len(alerted)} budget{'s' if plural else ''} crossed a threshold this "
                f"month: {names}.",
                reverse("budget-list"),
            )
        )
    recent = Anomaly.objects.visible_to(user).filter(
        feedback=Anomaly.Feedback.OPEN, end_date__gte=today - timedelta(days=ANOMALY_DAYS)
    )
    if count := recent.count():
        items.append(
            AttentionItem(
                f"{count} cost anomal{'ies' if count > 1 else 'y'} of the last "
                f"{ANOMALY_DAYS} days not reviewed yet.",
                f"{reverse('anomaly-list')}?feedback={Anomaly.Feedback.OPEN}",
            )
        )
    return items


def _first_line(message: str) -> str:
    line = (message.strip().splitlines() or ["no reason given"])[0]
    return line if len(line) <= 160 else f"{line[:157]}…"
