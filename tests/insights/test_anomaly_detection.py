"""The anomaly monitor finds a planted spike in every series it shows in, with its root
causes and exact impact, and nothing in series without one: flat, noisy or weekly."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation.models import CostCategory
from billing.models import Team
from billing.services.customers import team_create
from insights.anomalies.detect import DayPoint, detect
from insights.anomalies.run import detect_anomalies, worth_notifying
from insights.anomalies.series import read_series
from insights.anomalies.tasks import detect_anomalies_task
from insights.models import Anomaly, AnomalyMonitor
from insights.services import team_cost_binding_set
from invoices.models import BillingUnit
from portal.audit.models import AuditEntry
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line

D = Decimal
START = date(2026, 1, 1)
DAYS = 59  # 1 January to 28 February
A1, A2 = "210000000001", "210000000002"
SPIKE = {date(2026, 2, 20): "150.00", date(2026, 2, 21): "90.00", date(2026, 2, 22): "60.00"}


def days(count: int = 90) -> list[date]:
    return [START + timedelta(days=n) for n in range(count)]


def weekday_pattern(day: date) -> Decimal:
    return D("2.00") if day.weekday() >= 5 else D("5.00")


# The detection alone ---------------------------------------------------------------------


def test_a_spike_is_one_anomaly_with_its_days_and_impact_over_the_baseline_median() -> None:
    series = [D("100.00")] * 90
    series[60], series[61] = D("180.00"), D("250.50")

    [found] = detect({"s": series}, start=START)

    assert (found.start, found.end) == (START + timedelta(60), START + timedelta(61))
    assert (found.expected, found.actual, found.impact) == (D("200"), D("430.50"), D("230.50"))
    assert found.impact_percent == D("115.3")
    assert found.daily[0].day == START + timedelta(46)  # 14 days before
    assert found.daily[-1].expected == D("100.00") and found.daily[-1].actual == D("250.50")


def test_a_spike_over_next_to_nothing_has_no_percent_and_amounts_to_four_places() -> None:
    tiny = [D("0.0000001")] * 90
    tiny[60] = D("2000")
    small = [D("0.0001")] * 90
    small[60] = D("20000000")  # 2 * 10**13 % of expected: no percent either
    usual = [D("3.33333")] * 90
    usual[60] = D("10.00005")

    found = {f.key: f for f in detect({"tiny": tiny, "small": small, "usual": usual}, start=START)}

    assert (found["tiny"].expected, found["tiny"].impact) == (D("0.0000"), D("2000.0000"))
    assert found["tiny"].impact_percent is None
    assert (found["small"].expected, found["small"].impact) == (D("0.0001"), D("19999999.9999"))
    assert found["small"].impact_percent is None
    assert (found["usual"].expected, found["usual"].actual) == (D("3.3333"), D("10.0001"))
    assert str(found["usual"].impact) == "6.6668" and found["usual"].impact_percent == D("200.0")
    assert found["usual"].daily[-1] == DayPoint(START + timedelta(60), D("3.3333"), D("10.0001"))


def test_series_without_a_spike_yield_nothing_flat_noisy_weekly_or_new() -> None:
    noise = random.Random(7)
    series = {
        "flat": [D("100")] * 90,
        "cents": [D("0.05") if n % 2 else D("0.01") for n in range(90)],
        "noisy": [D(f"{100 + noise.gauss(0, 3):.2f}") for _ in range(90)],
        "weekends low": [weekday_pattern(day) for day in days()],
        "sunday batch": [D("300") if day.weekday() == 6 else D("100") for day in days()],
        "new from day 50": [D(0)] * 50 + [D("40")] * 40,
        "falling": [D(200 - n) for n in range(90)],
        "monthly fees": [D("310") if day.day == 1 else D("10") for day in days()],
    }

    assert detect(series, start=START) == []


def test_a_months_first_day_is_judged_against_the_earlier_first_days() -> None:
    series = [D("310") if day.day == 1 else D("10") for day in days()]
    series[59] = D("700")  # 1 March: fees of 300 more than on 1 January and 1 February

    [found] = detect({"fees": series}, start=START)

    assert found.start == found.end == date(2026, 3, 1)
    assert (found.expected, found.impact) == (D("310"), D("390"))


def test_a_spike_on_a_weekday_of_a_weekly_pattern_is_found_against_that_weekday() -> None:
    series = [weekday_pattern(day) for day in days()]
    saturday = next(n for n, day in enumerate(days()) if n > 60 and day.weekday() == 5)
    series[saturday] = D("5.00")  # a weekday's cost on a Saturday: +3.00, well above 2.00

    [found] = detect({"weekly": series}, start=START)

    assert found.start == found.end == START + timedelta(saturday)
    assert (found.expected, found.impact) == (D("2.00"), D("3.00"))


# The monitor over ingested bills ---------------------------------------------------------


def bill() -> list[dict[str, Any]]:
    """Two months: Web's EC2 in A1 costs 10.00 a day; Data's S3 in A2 is lower at weekends;
    from 20 February, Web runs p3 instances in eu-west-1 in A1 for three days."""
    rows = []
    for day in days(DAYS):
        rows.append(cost(day, A1, "Amazon EC2", "10.00", team="web"))
        rows.append(cost(day, A2, "Amazon S3", f"{weekday_pattern(day)}", team="data",
                         usage_type="TimedStorage-ByteHrs"))  # fmt: skip
        if day in SPIKE:
            rows.append(cost(day, A1, "Amazon EC2", SPIKE[day], team="web", region="eu-west-1",
                             usage_type="BoxUsage:p3.2xlarge"))  # fmt: skip
    return rows


def cost(day: date, account: str, service: str, billed: str, **extra: str) -> dict[str, Any]:
    following = date(day.year, day.month + 1, 1)
    return line(
        billing_period_start=f"{day:%Y-%m}-01",
        billing_period_end=f"{following}",
        sub_account_id=account,
        sub_account_name="web-prod" if account == A1 else "data-prod",
        charge_period_start=f"{day}T00:00:00Z",
        charge_period_end=f"{day}T01:00:00Z",
        service_name=service,
        region_id=extra.get("region", "us-east-1"),
        x_usage_type=extra.get("usage_type", "BoxUsage:m5.large"),
        billed_cost=billed,
        effective_cost=billed,
        list_cost=billed,
        tags=f'{{"team": "{extra["team"]}"}}',
    )


@pytest.fixture
def estate(tenant_a: Any, tmp_path: Path, monkeypatch: Any) -> dict[str, Team]:
    return estate_of(bill(), tmp_path, monkeypatch)


def estate_of(rows: list[dict[str, Any]], tmp_path: Path, monkeypatch: Any) -> dict[str, Team]:
    """The bill's rows ingested and allocated to the Web and Data teams."""
    ingest(use_fake_files(tmp_path, monkeypatch), rows, name="bill.csv")
    category = category_with(
        "Team",
        [
            regular("Web", cond("tag", "equals", "web", key="team")),
            regular("Data", cond("tag", "equals", "data", key="team")),
        ],
        default_value="Shared",
    )
    for month in (date(2026, 1, 1), date(2026, 2, 1)):
        run(category, month)
    teams = {name: team_create(actor=None, name=f"{name} team") for name in ("Web", "Data")}
    for value, team in teams.items():
        team_cost_binding_set(actor=None, team=team, category=category, value=value)
    BillingUnit.objects.create(
        name="Web unit", category=CostCategory.objects.get(name="Team"), value="Web",
        legal_name="Web",
    )  # fmt: skip
    return teams


def found_by_dimension() -> dict[str, Anomaly]:
    return {a.dimension: a for a in Anomaly.objects.all()}


def causes(anomaly: Anomaly) -> dict[str, list[tuple[str, str]]]:
    named: dict[str, list[tuple[str, str]]] = {}
    for cause in anomaly.root_causes:
        named.setdefault(cause["dimension"], []).append((cause["label"], cause["share"]))
    return named


def test_the_planted_spike_is_found_in_its_team_unit_account_and_service(
    estate: dict[str, Team],
) -> None:
    detect_anomalies(date(2026, 3, 1))

    found = found_by_dimension()
    assert sorted(found) == ["account", "billing_unit", "service", "team"]
    assert Anomaly.objects.count() == 4  # nothing of Data, whose weekends cost less
    for anomaly in found.values():
        assert (anomaly.start_date, anomaly.end_date) == (date(2026, 2, 20), date(2026, 2, 22))
        assert anomaly.expected == D("30.00")  # three days of the baseline median, 10.00
        assert anomaly.actual == D("330.00")
        assert anomaly.impact == D("300.00")
        assert anomaly.impact_percent == D("1000.0")
        assert anomaly.currency == "USD"
    assert (found["team"].key, found["team"].label) == ("Web team", "Web team")
    assert found["team"].team == estate["Web"] and found["billing_unit"].team == estate["Web"]
    assert found["account"].label == f"web-prod ({A1})" and found["account"].team is None
    assert found["service"].label == "Amazon EC2"


def test_root_causes_name_the_service_account_region_and_usage_type_of_the_spike(
    estate: dict[str, Team],
) -> None:
    detect_anomalies(date(2026, 3, 1))

    found = found_by_dimension()
    assert causes(found["account"]) == {
        "service": [("Amazon EC2", "100.0")],
        "account": [(f"web-prod ({A1})", "100.0")],
        "region": [("eu-west-1", "100.0")],
        "usage_type": [("BoxUsage:p3.2xlarge", "100.0")],
    }
    assert found["account"].root_causes[0]["impact"] == "300.0000"
    # Allocated cost keeps no region.
    assert causes(found["team"]) == {
        "service": [("Amazon EC2", "100.0")],
        "account": [(f"web-prod ({A1})", "100.0")],
        "usage_type": [("BoxUsage:p3.2xlarge", "100.0")],
    }


def test_the_chart_shows_the_two_weeks_before_through_the_end(estate: dict[str, Team]) -> None:
    detect_anomalies(date(2026, 3, 1))

    daily = found_by_dimension()["service"].daily
    assert daily[0] == {"date": "2026-02-06", "expected": "10.0000", "actual": "10.0000"}
    assert daily[-1] == {"date": "2026-02-22", "expected": "10.0000", "actual": "70.0000"}
    assert len(daily) == 17


def test_a_second_run_over_the_same_days_changes_nothing_and_keeps_feedback(
    estate: dict[str, Team],
) -> None:
    first = detect_anomalies(date(2026, 3, 1))
    Anomaly.objects.filter(dimension="team").update(feedback=Anomaly.Feedback.EXPECTED)
    before = list(Anomaly.objects.order_by("pk").values())

    again = detect_anomalies(date(2026, 3, 1))

    assert len(first) == 4 and again == []
    assert list(Anomaly.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.filter(action="anomaly.detect").count() == 2


def test_an_anomaly_still_going_on_is_extended_by_the_next_days_run(
    estate: dict[str, Team],
) -> None:
    first = detect_anomalies(date(2026, 2, 22))  # 20 and 21 February judged
    team = Anomaly.objects.get(dimension="team")
    assert (team.end_date, team.impact) == (date(2026, 2, 21), D("240.00"))

    following = detect_anomalies(date(2026, 2, 23))

    assert {a.pk for a in following} == {a.pk for a in first}
    team.refresh_from_db()
    assert (team.start_date, team.end_date, team.impact) == (
        date(2026, 2, 20),
        date(2026, 2, 22),
        D("300.00"),
    )
    assert Anomaly.objects.count() == 4


def test_each_run_records_one_audit_entry_with_its_counts(estate: dict[str, Team]) -> None:
    monitor = AnomalyMonitor.objects.get()

    detect_anomalies(date(2026, 3, 1), monitor)

    entry = AuditEntry.objects.get(action="anomaly.detect")
    assert entry.after is not None
    assert (entry.after["series"], entry.after["new"], entry.after["extended"]) == (7, 4, 0)
    assert entry.after["days"] == ["2025-12-29", "2026-02-28"]
    monitor.refresh_from_db()
    assert monitor.last_run_at is not None


def test_an_inactive_monitor_does_not_run_and_a_stricter_one_finds_less(
    estate: dict[str, Team],
) -> None:
    AnomalyMonitor.objects.update(active=False)
    assert detect_anomalies(date(2026, 3, 1)) == []
    AnomalyMonitor.objects.update(active=True, sensitivity=D("400"))
    assert detect_anomalies(date(2026, 3, 1)) == []


def test_each_dimensions_series_are_read_in_one_statement_however_many(
    estate: dict[str, Team],
) -> None:
    start, end = date(2025, 12, 1), date(2026, 3, 1)
    for dimension, statements in (("account", 1), ("service", 1), ("team", 3)):
        with CaptureQueriesContext(connection) as queries:
            series = read_series(dimension, metric="billed_cost", start=start, end=end)
        read = [q for q in queries.captured_queries if not q["sql"].startswith("SET ")]
        assert len(read) == statements, dimension
        assert series.values.shape == (2, 90)
    assert read_series("team", metric="billed_cost", start=start, end=end).keys == [
        "Data team",
        "Web team",
    ]


def test_a_dormant_service_costing_thousands_is_recorded_without_a_percent(
    admin_client_a: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    # Route 53 in A2 costs next to nothing each day, then 2,000 on 25 February.
    dormant = [
        cost(day, A2, "Amazon Route 53", "2000" if day == date(2026, 2, 25) else "0.0000001",
             team="data", usage_type="DNS-Queries")
        for day in days(DAYS)
    ]  # fmt: skip
    estate_of(bill() + dormant, tmp_path, monkeypatch)

    changed = detect_anomalies(date(2026, 3, 1))

    route53 = Anomaly.objects.get(dimension="service", key="Amazon Route 53")
    assert (route53.start_date, route53.end_date) == (date(2026, 2, 25), date(2026, 2, 25))
    assert (route53.expected, route53.actual) == (D("0"), D("2000.0000"))
    assert route53.impact == D("2000") and route53.impact_percent is None
    # The run went on: the Web spike in its four series, Data's team and account too.
    assert len(changed) == Anomaly.objects.count() == 7
    web = Anomaly.objects.filter(start_date=date(2026, 2, 20))
    assert {a.dimension for a in web} == {"team", "billing_unit", "account", "service"}
    data = Anomaly.objects.get(dimension="team", key="Data team")
    assert data.impact == D("2000.0000") and data.impact_percent == D("40000.0")
    # Pages and API say it is a new cost rather than showing no percent.
    listed = admin_client_a.get("/anomalies/?dimension=service").content.decode()
    assert "new cost" in listed
    page = admin_client_a.get(f"/anomalies/{route53.pk}/").content.decode()
    assert "new cost: next to nothing expected" in page
    body = admin_client_a.get(f"/api/v1/anomalies/{route53.pk}/").json()
    assert body["impact_percent"] is None and body["impact"] == "2000.0000"


def test_only_anomalies_past_both_thresholds_are_worth_notifying() -> None:
    monitor = AnomalyMonitor(notify_min_impact=D("100"), notify_min_percent=D("20"))

    def anomaly(impact: str, percent: str | None) -> Anomaly:
        return Anomaly(impact=D(impact), impact_percent=None if percent is None else D(percent))

    assert worth_notifying(anomaly("100", "20"), monitor)
    assert not worth_notifying(anomaly("99.99", "500"), monitor)
    assert not worth_notifying(anomaly("5000", "19.9"), monitor)
    # No percent (next to nothing expected): the impact alone decides.
    assert worth_notifying(anomaly("5000", None), monitor)
    assert worth_notifying(anomaly("100", None), monitor)
    assert not worth_notifying(anomaly("99.99", None), monitor)


def test_the_command_and_the_task_run_the_tenants_monitor(estate: dict[str, Team]) -> None:
    out = StringIO()
    call_command("detect_anomalies", "--tenant", "alpha", "--today", "2026-03-01", stdout=out)

    printed = out.getvalue()
    assert "4 new or extended anomalies." in printed
    assert "Team Web team: 2026-02-20 to 2026-02-22, expected 30.00, actual 330.00, " in printed
    assert "impact 300.00 USD (1000.0 %)" in printed
    assert "region eu-west-1: 100.0 % of the impact" in printed
    assert detect_anomalies_task.run("alpha", "2026-03-01") == 0


def test_a_months_first_day_without_an_earlier_one_in_the_window_is_not_judged() -> None:
    # From 4 February, day 25 is 1 March: no first day before it in the window.
    values = [Decimal("10.00")] * 25 + [Decimal("90.00"), Decimal("10.00")]
    assert detect({"x": values}, start=date(2026, 2, 4), baseline_days=21, first=25) == []
    # The same cost on 2 March is an anomaly.
    found = detect({"x": values}, start=date(2026, 2, 5), baseline_days=21, first=25)
    assert [(f.start, f.actual) for f in found] == [(date(2026, 3, 2), Decimal("90.00"))]
