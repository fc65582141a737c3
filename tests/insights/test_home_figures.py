"""The home page's figures: the month end projected from the run rate, the change against
the same days of last month, top movers, and the chart's top groups and Others."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from insights.home import (
    MonthFigures,
    Mover,
    projected_month_end,
    top_groups,
    top_movers,
)
from insights.query import CostAnswer, CostGroup, CostQuery, Point

D = Decimal


@pytest.mark.parametrize(
    ("total", "today", "projected"),
    [
        ("130.505", date(2026, 1, 10), "404.5655"),  # 31 days: 130.505 / 10 * 31
        ("28", date(2026, 2, 7), "112"),  # 28 days
        ("29", date(2028, 2, 29), "29"),  # a leap year's last day: the month is done
        ("0", date(2026, 4, 1), "0"),
        ("-3", date(2026, 4, 3), "-30"),  # credits project too
    ],
)
def test_the_month_end_is_projected_from_the_run_rate(
    total: str, today: date, projected: str
) -> None:
    assert projected_month_end(D(total), today=today) == D(projected)


def test_month_figures_compare_with_the_same_days_of_last_month() -> None:
    figures = MonthFigures(
        label="Billed cost",
        currency="USD",
        today=date(2026, 3, 30),
        total=D("300"),
        previous_total=D("250"),
        previous_start=date(2026, 2, 1),
        previous_end=date(2026, 2, 28),
    )

    assert (figures.change, figures.change_percent) == (D("50"), D("20.00"))
    assert (figures.days_elapsed, figures.days_in_month) == (30, 31)
    assert figures.projection == D("310")
    assert figures.previous_last_day == date(2026, 2, 27)


def test_the_run_rate_is_of_the_days_the_bills_cover() -> None:
    figures = MonthFigures(
        label="Billed cost",
        currency="USD",
        today=date(2026, 3, 7),
        total=D("60"),
        previous_total=D("0"),
        previous_start=date(2026, 2, 1),
        previous_end=date(2026, 2, 8),
        cost_through=date(2026, 3, 6),  # today's cost is not billed yet
    )

    assert figures.days_elapsed == 6
    assert figures.projection == D("310")  # 60 / 6 * 31


def _answer(*groups: tuple[str, str, str]) -> CostAnswer:
    query = CostQuery(start=date(2026, 1, 1), end=date(2026, 1, 11), group_by=("service",))
    built = [
        CostGroup(keys=(key,), total=D(now), previous_total=D(before))
        for key, now, before in groups
    ]
    return CostAnswer(
        query=query,
        currency="USD",
        total=sum((g.total for g in built), D(0)),
        previous_total=sum((g.previous_total for g in built), D(0)),
        groups=built,
    )


def test_top_movers_are_the_largest_absolute_changes_without_others_or_unchanged() -> None:
    answer = _answer(
        ("EC2", "110", "50"),  # +60
        ("S3", "20", "90"),  # -70
        ("RDS", "5", "5"),  # unchanged
        ("Lambda", "1", "0"),  # new: +1
        ("Others", "500", "0"),
        ("KMS", "0", "2"),  # gone: -2
    )

    movers = top_movers(answer, count=3)

    assert movers == [
        Mover("S3", D("20"), D("90")),
        Mover("EC2", D("110"), D("50")),
        Mover("KMS", D("0"), D("2")),
    ]
    assert movers[0].change_percent == D("-77.78")
    assert Mover("Lambda", D("1"), D("0")).change_percent is None


def test_the_chart_keeps_the_largest_groups_and_folds_the_rest_into_others() -> None:
    answer = _answer(("EC2", "9", "1"), ("S3", "5", "2"), ("RDS", "3", "0"), ("Others", "1", "4"))
    series = (("4", "5"), ("5", "0"), ("1", "2"), ("0", "1"))
    for group, amounts in zip(answer.groups, series, strict=True):
        group.series = [Point(date(2026, 1, 1 + n), D(a)) for n, a in enumerate(amounts)]

    chart = top_groups(answer, count=2)

    assert [(g.key, g.total, g.previous_total) for g in chart.groups] == [
        ("EC2", D("9"), D("1")),
        ("S3", D("5"), D("2")),
        ("Others", D("4"), D("4")),
    ]
    assert [p.amount for p in chart.groups[-1].series] == [D("1"), D("3")]
    assert (chart.total, chart.query.limit) == (answer.total, 2)
    assert top_groups(answer, count=5).groups[-1].key == "Others"  # the answer's own
