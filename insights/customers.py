"""Each end customer's wholesale, resale and margin, this month to date and last month.

The figures are the cost explorer's answers grouped by end customer, so the list and the
explorer always agree: resale and margin are the explorer's metrics (fees and credits of
the plan included), wholesale is their difference, the plan's cost basis. A customer
without a pricing plan has no resale; its wholesale is its billed cost, the basis the
explorer gives such a customer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from billing.models import EndCustomer
from insights.query import MAX_LIMIT, CostQuery, add_months, month_to_date
from insights.selectors import DEFAULT_CURRENCY, cost_explorer, explorer_options
from invoices.models import BillingUnit
from portal.core.errors import ApplicationError

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class MonthMoney:
    wholesale: Decimal = ZERO
    resale: Decimal | None = None  # None: the customer has no pricing plan
    margin: Decimal | None = None

    @property
    def margin_percent(self) -> Decimal | None:
        """The margin in percent of the resale, to the cent (half up, as amounts are
        shown); None without a resale."""
        if self.margin is None or not self.resale:
            return None
        return (self.margin * 100 / self.resale).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CustomerLine:
    customer: EndCustomer
    plan: str  # the pricing plan's name, "" without one
    this_month: MonthMoney
    last_month: MonthMoney


@dataclass
class CustomerFigures:
    currency: str
    this_month: tuple[date, date]  # start, exclusive end: the 1st up to today
    last_month: tuple[date, date]
    lines: list[CustomerLine] = field(default_factory=list)
    refused: str = ""  # why the explorer could not answer, when it could not

    @property
    def through(self) -> date:
        """The last day of this month's figures: today."""
        return self.this_month[1] - timedelta(days=1)

    @property
    def any_priced(self) -> bool:
        return any(line.plan for line in self.lines)

    def total(self, month: str) -> MonthMoney:
        """Every customer's `month` ("this_month", "last_month") added up; resale and
        margin of the priced ones."""
        found = [getattr(line, month) for line in self.lines]
        priced = [money for money in found if money.resale is not None]
        return MonthMoney(
            wholesale=sum((money.wholesale for money in found), ZERO),
            resale=sum((money.resale or ZERO for money in priced), ZERO) if priced else None,
            margin=sum((money.margin or ZERO for money in priced), ZERO) if priced else None,
        )

    @property
    def totals(self) -> tuple[MonthMoney, MonthMoney]:
        return self.total("this_month"), self.total("last_month")


# ?sort= keys: a column of this month, or of last month with "last_", "-" for descending.
COLUMNS = ("wholesale", "resale", "margin", "margin_percent")
SORTS = ("name", *COLUMNS, *(f"last_{c}" for c in COLUMNS))


def customer_figures(
    *, user: Any, customers: Sequence[EndCustomer], today: date
) -> CustomerFigures:
    """The figures of `customers` as `user` sees them in the explorer (a tenant-wide role)."""
    this_start, tomorrow = month_to_date(today)
    last_start = add_months(this_start, -1)
    figures = CustomerFigures(
        currency=DEFAULT_CURRENCY,
        this_month=(this_start, tomorrow),
        last_month=(last_start, this_start),
    )
    plans = _plans(customers)
    options = explorer_options(user=user)
    metrics = {m["key"] for m in options["metrics"]}
    grouped = "end_customer" in {d["key"] for d in options["dimensions"]}
    sums: dict[str, dict[str, dict[date, Decimal]]] = {}
    if grouped:
        priced = [c.legal_name for c in customers if c.pk in plans]
        unpriced = [c.legal_name for c in customers if c.pk not in plans]
        asks = [("billed_cost", unpriced)]
        if {"resale", "margin"} <= metrics:
            asks += [("resale", priced), ("margin", priced)]
        try:
            for metric, names in asks:
                sums[metric] = _monthly(user, metric, names, last_start, tomorrow, figures)
        except ApplicationError as exc:
            figures.refused = exc.message
            sums = {}
    figures.lines = [
        CustomerLine(
            customer=customer,
            plan=plans.get(customer.pk, ""),
            this_month=_money(sums, customer, this_start, customer.pk in plans),
            last_month=_money(sums, customer, last_start, customer.pk in plans),
        )
        for customer in customers
    ]
    return figures


def _plans(customers: Sequence[EndCustomer]) -> dict[int, str]:
    """Customer id -> its pricing plan's name: the first priced billing unit's, by name,
    the plan the explorer prices the customer by."""
    units = BillingUnit.objects.filter(
        end_customer__in=[c.pk for c in customers], plan__isnull=False
    )
    plans: dict[int, str] = {}
    for customer_id, plan in units.order_by("name").values_list("end_customer_id", "plan__name"):
        plans.setdefault(customer_id, plan)
    return plans


def _monthly(
    user: Any, metric: str, names: list[str], start: date, end: date, figures: CustomerFigures
) -> dict[str, dict[date, Decimal]]:
    """Customer name -> month -> `metric`, asked of the explorer by month, a page of
    customers at a time so that none is folded into Others."""
    found: dict[str, dict[date, Decimal]] = {}
    for chunk in _chunks(names, MAX_LIMIT):
        query = CostQuery(
            start=start,
            end=end,
            granularity="monthly",
            metric=metric,
            group_by=("end_customer",),
            filters=(("end_customer", tuple(chunk)),),
            limit=MAX_LIMIT,
        )
        answer = cost_explorer(user=user, query=query)
        figures.currency = answer.currency
        for group in answer.groups:
            months = found.setdefault(group.keys[0], {})
            for point in group.series:
                months[point.date] = months.get(point.date, ZERO) + point.amount
    return found


def _chunks(names: list[str], size: int) -> Iterator[list[str]]:
    for first in range(0, len(names), size):
        yield names[first : first + size]


def _money(
    sums: dict[str, dict[str, dict[date, Decimal]]],
    customer: EndCustomer,
    month: date,
    priced: bool,
) -> MonthMoney:
    def amount(metric: str) -> Decimal:
        return sums.get(metric, {}).get(customer.legal_name, {}).get(month, ZERO)

    if not priced:
        return MonthMoney(wholesale=amount("billed_cost"))
    if "resale" not in sums:  # a plan the explorer does not price yet (no accounts)
        return MonthMoney(resale=ZERO, margin=ZERO)
    resale, margin = amount("resale"), amount("margin")
    return MonthMoney(wholesale=resale - margin, resale=resale, margin=margin)


def sort_lines(lines: list[CustomerLine], sort: str) -> list[CustomerLine]:
    """`lines` by a key of SORTS ("-" first: descending); by name for an unknown key.
    A customer without a figure (no plan, no resale) comes last either way."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    by_name = sorted(lines, key=lambda line: line.customer.legal_name.lower())
    if key not in SORTS or key == "name":
        return list(reversed(by_name)) if descending and key == "name" else by_name
    month, column = ("last_month", key[5:]) if key.startswith("last_") else ("this_month", key)
    values = [(getattr(getattr(line, month), column), line) for line in by_name]
    known = [(value, line) for value, line in values if value is not None]
    known.sort(key=lambda pair: pair[0], reverse=descending)
    return [line for _, line in known] + [line for value, line in values if value is None]
