"""`manage.py load_demo`: the demo `make run` shows, loaded once and reused after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max, Sum
from django.test import override_settings
from django_tenants.utils import schema_context

from allocation.models import AllocationRun, RunStatus
from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    CostLineItem,
    EndCustomer,
    LoadedPeriod,
    Organization,
    OrganizationalUnit,
    TagKey,
    Team,
    TransferStatus,
)
from insights.budgets.spend import budget_spend
from insights.models import (
    Anomaly,
    Budget,
    BudgetAlert,
    NotificationDelivery,
    StoredForecast,
    TeamCostBinding,
)
from invoices.models import Invoice, InvoiceStatus
from portal.audit.models import AuditEntry
from portal.demo import data, loader
from portal.demo.loader import DemoLoad, load_demo
from portal.demo.spike import SPIKE_ROWS
from portal.tenants.models import Tenant
from portal.users.models import User
from tests.conftest import PUBLIC_HOST, TenantClient

SCHEMA = "demo_t"
HOST = "demo-t.test.localhost"
TODAY = date(2026, 1, 31)
JANUARY = date(2026, 1, 1)
COUNTED = (
    User,
    Organization,
    OrganizationalUnit,
    Account,
    BillingTransfer,
    Team,
    EndCustomer,
    BillingView,
)


@pytest.fixture(scope="module")
def demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoLoad]:
    """The demo loaded once (committed) into its own schema; dropped after the module."""
    # Its own folders: the bill files of parallel runs and of the real demo stay apart.
    media = override_settings(
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
        LOCAL_DIR=tmp_path_factory.mktemp("local"),
    )
    # Fewer rows than the real demo's: the months and their sums are what is checked here.
    with django_db_blocker.unblock(), media, pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "COST_ROWS", 4000)
        public_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        load = load_demo(schema=SCHEMA, name="Demo", domain=HOST, today=TODAY)
        yield load
        load.tenant.auto_drop_schema = True
        load.tenant.delete(force_drop=True)
        AuditEntry.objects.filter(pk__gt=public_audit or 0).delete()
        # Not .delete(): its cascade looks for API tokens, a table public does not have.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM users_user WHERE username = %s", [data.OPERATOR])


def counts() -> dict[str, int]:
    with schema_context(SCHEMA):
        rows = {model.__name__: model.objects.count() for model in COUNTED}
        rows["tenant audit"] = AuditEntry.objects.count()
    rows["public audit"] = AuditEntry.objects.count()
    rows["tenants"] = Tenant.objects.count()
    rows["public users"] = User.objects.count()
    return rows


def test_the_demo_holds_users_of_every_role_and_an_organization(demo: DemoLoad, db: Any) -> None:
    assert demo.created, "the first load creates the demo"
    operator = User.objects.get(username=data.OPERATOR)
    assert operator.is_superuser
    assert operator.check_password(data.PASSWORD)
    with schema_context(SCHEMA):
        roles = dict(User.objects.values_list("username", "role"))
        assert roles == {
            "admin": "admin",
            "finance": "finance",
            "reseller": "reseller_admin",
            "teamlead": "team_lead",
            "customer": "end_customer",
        }
        acme = Organization.objects.get(management_account__account_id=data.ACME.payer_id)
        declared = {spec.account_id for spec in data.ACME.accounts} | {data.ACME.payer_id}
        members = set(acme.accounts.values_list("account_id", flat=True))
        # The demo bills' usage accounts are declared ones: the ingest registers none.
        assert declared == members
        billed = CostLineItem.objects.filter(billing_account_id=data.ACME.payer_id)
        used = set(billed.values_list("sub_account_id", flat=True).distinct())
        assert used == {data.ACME.payer_id, *data.ACME.billed}
        assert Account.objects.filter(account_id__in=used).count() == len(used)
        platform = Account.objects.get(name="platform-prod").ou
        assert platform is not None and platform.path == "Engineering / Platform"
        transfer = BillingTransfer.objects.get()
        assert transfer.status == TransferStatus.ACCEPTED
        assert transfer.source.account_id == data.SUBSIDIARY.payer_id
        assert transfer.destination.account_id == data.ACME.payer_id
        assert transfer.start_date == date(2025, 11, 1)  # two months before January
        # The subsidiary's bills from then on are paid by Acme's payer (payer of record).
        records = dict(
            LoadedPeriod.objects.filter(billing_account_id=data.SUBSIDIARY.payer_id).values_list(
                "billing_period_start", "payer_of_record"
            )
        )
        assert records[date(2025, 10, 1)] == data.SUBSIDIARY.payer_id
        assert records[date(2025, 11, 1)] == records[date(2026, 1, 1)] == data.ACME.payer_id
        led = Team.objects.filter(leads__username="teamlead").values_list("name", flat=True)
        assert sorted(led) == ["Data", "Platform"]
        globex = EndCustomer.objects.get()
        assert (globex.legal_name, globex.currency) == ("Globex Ltd", "EUR")
        assert [a.account_id for a in globex.payers.all()] == [data.SUBSIDIARY.payer_id]
        assert [u.username for u in globex.viewers.all()] == ["customer"]
        view = BillingView.objects.get()
        assert [u.username for u in view.shared_with.all()] == ["finance"]
        assert AuditEntry.objects.filter(action="organization.create").count() == 2


def test_a_second_load_finds_everything_and_writes_nothing(demo: DemoLoad, db: Any) -> None:
    before = counts()
    again = load_demo(schema=SCHEMA, name="Demo", domain=HOST, today=TODAY)
    assert again.created == []
    assert counts() == before


def test_the_command_says_nothing_changed_on_a_second_run(
    demo: DemoLoad, db: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same day as the first load: a later one would add its months.
    noon = datetime(2026, 1, 31, 12, tzinfo=UTC)
    monkeypatch.setattr(loader, "timezone", SimpleNamespace(now=lambda: noon))
    call_command("load_demo", schema=SCHEMA, domain=HOST)
    out = capsys.readouterr().out
    assert "nothing changed" in out
    assert data.PASSWORD in out


@pytest.mark.parametrize("user", data.USERS, ids=lambda user: user.username)
def test_every_demo_user_gets_an_api_token(demo: DemoLoad, db: Any, user: data.UserSpec) -> None:
    response = TenantClient(HOST).post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": data.PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == user.role


def test_the_operator_logs_in_on_the_operator_site(demo: DemoLoad, db: Any) -> None:
    client = TenantClient(PUBLIC_HOST)
    response = client.post("/login/", {"username": data.OPERATOR, "password": data.PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_demo_has_five_full_months_and_this_month_up_to_yesterday(
    demo: DemoLoad, db: Any
) -> None:
    months = [date(2025, m, 1) for m in (8, 9, 10, 11, 12)]
    with schema_context(SCHEMA):
        for payer in (data.ACME.payer_id, data.SUBSIDIARY.payer_id):
            loaded = LoadedPeriod.objects.filter(billing_account_id=payer)
            # ACME's January also holds the planted GPU spike (Jan 22-24, for the monitor).
            spike = SPIKE_ROWS if payer == data.ACME.payer_id else 0
            assert [(p.billing_period_start, p.rows) for p in loaded.order_by("pk")] == [
                *((month, data.COST_ROWS) for month in months),
                (JANUARY, data.COST_ROWS * 30 // 31 + spike),  # its daily cost like the others'
            ]
            january = CostLineItem.objects.filter(
                billing_account_id=payer, billing_period_start=JANUARY
            ).aggregate(last=Max("charge_period_start"))
            assert january["last"].date() == date(2026, 1, 30)
            # Each month its own bill, not one copied.
            assert len({p.billed_cost for p in loaded}) == len(months) + 1
        assert TagKey.objects.get(name="team").aliases == ["TEAM", "Team"]


def team_totals(period: date) -> dict[str, Decimal]:
    run = AllocationRun.objects.get(
        category__name=data.TEAM_CATEGORY, period=period, status=RunStatus.SUCCEEDED
    )
    sums: dict[str, Decimal] = {}
    for value, billed in run.results.values_list("value", "billed_cost"):
        sums[value] = sums.get(value, Decimal(0)) + billed
    return sums


def test_every_month_is_shared_among_the_three_teams_to_the_cent(demo: DemoLoad, db: Any) -> None:
    with schema_context(SCHEMA):
        months = sorted(set(LoadedPeriod.objects.values_list("billing_period_start", flat=True)))
        assert len(months) == 6
        for month in months:
            totals = team_totals(month)
            # "Shared" (untagged, fees, tax) is split away; "ml" went to Data, "search" to Web.
            assert set(totals) == {"Platform", "Data", "Web"}
            assert all(amount > 0 for amount in totals.values())
            billed = LoadedPeriod.objects.filter(billing_period_start=month).aggregate(
                total=Sum("billed_cost")
            )["total"]
            assert sum(totals.values()) == billed
            customer = AllocationRun.objects.filter(
                category__name=data.CUSTOMER_CATEGORY, period=month, status=RunStatus.SUCCEEDED
            )
            assert customer.count() == 1


def test_each_demo_team_is_bound_to_its_value_of_the_team_category(demo: DemoLoad, db: Any) -> None:
    with schema_context(SCHEMA):
        bound = TeamCostBinding.objects.values_list("team__name", "category__name", "value")
        assert sorted(bound) == [
            ("Data", "Team", "Data"),
            ("Platform", "Team", "Platform"),
            ("Web", "Team", "Web"),
        ]


def test_globex_is_invoiced_for_the_subsidiarys_last_full_month(demo: DemoLoad, db: Any) -> None:
    with schema_context(SCHEMA):
        customer = User.objects.get(username=data.CUSTOMER_VIEWER)
        (invoice,) = Invoice.objects.visible_to(customer)
        assert invoice.period == date(2025, 12, 1)
        assert invoice.status == InvoiceStatus.ISSUED
        assert invoice.buyer_name == data.CUSTOMER["legal_name"]
        assert invoice.seller_name == data.SELLER["legal_name"]
        assert invoice.lines.count() > 1 and invoice.total > 0 and invoice.pdf
        loaded = LoadedPeriod.objects.get(
            billing_account_id=data.SUBSIDIARY.payer_id, billing_period_start=invoice.period
        )
        assert invoice.wholesale_total == loaded.billed_cost


def test_the_data_teams_budget_stands_past_its_90_percent_threshold(
    demo: DemoLoad, db: Any
) -> None:
    with schema_context(SCHEMA):
        budget = Budget.objects.get(name="Data monthly")
        spend = budget_spend(budget, TODAY)
        assert spend.actual_percent is not None and 90 <= spend.actual_percent < 100
        fired = BudgetAlert.objects.filter(threshold__budget=budget, period_start=JANUARY)
        assert [str(a.threshold) for a in fired if a.threshold.basis == "actual"] == [
            "90 % of actual spend"
        ]
        assert set(Budget.objects.values_list("scope", flat=True)) == {
            "team",
            "tenant",
            "billing_unit",
        }


def test_the_monitor_found_the_gpu_spike_with_its_root_cause(demo: DemoLoad, db: Any) -> None:
    with schema_context(SCHEMA):
        found = Anomaly.objects.filter(dimension="team", key="Data")
        team = found.get(start_date=date(2026, 1, 22))
        assert (team.start_date, team.end_date) == (date(2026, 1, 22), date(2026, 1, 24))
        spike = Decimal("12.24") * 24 * 2 * 3
        assert spike * Decimal("0.9") <= team.impact <= spike * Decimal("1.1")
        usage = [c for c in team.root_causes if c["dimension"] == "usage_type"]
        assert usage[0]["value"] == "BoxUsage:p3.8xlarge" and Decimal(usage[0]["share"]) > 90
        assert NotificationDelivery.objects.filter(subject_key=f"anomaly:{team.pk}").exists()


def test_forecasts_are_there_for_the_tenant_and_each_team(demo: DemoLoad, db: Any) -> None:
    with schema_context(SCHEMA):
        daily = StoredForecast.objects.filter(frequency="daily", reason="")
        assert {f.scope for f in daily} >= {"tenant", "team", "service"}
        assert {f.label for f in daily if f.scope == "team"} == {"Platform", "Data", "Web"}
        tenant = daily.get(scope="tenant")
        assert len(tenant.points) == 92 and tenant.mape is not None


# Last: it changes the demo the tests above look at.
def test_a_load_next_month_completes_this_month_and_invoices_it(demo: DemoLoad, db: Any) -> None:
    again = load_demo(schema=SCHEMA, name="Demo", domain=HOST, today=date(2026, 2, 1))

    # January's two bills in full, its two categories allocated again, the business metrics
    # of its last day, its invoice run.
    # Then the anomaly monitor over the bills and forecasts from them again.
    made = [c for c in again.created if not c.endswith((" anomalies", " forecasts"))]
    assert len(made) == 6, again.created
    assert again.created[-1].endswith(" forecasts")
    with schema_context(SCHEMA):
        january = LoadedPeriod.objects.filter(billing_period_start=JANUARY)
        assert sorted(p.rows for p in january) == [data.COST_ROWS, data.COST_ROWS + SPIKE_ROWS]
        last = CostLineItem.objects.filter(billing_period_start=JANUARY).aggregate(
            last=Max("charge_period_start")
        )["last"]
        assert last.date() == date(2026, 1, 31)
        assert sum(team_totals(JANUARY).values()) == january.aggregate(t=Sum("billed_cost"))["t"]
        assert not LoadedPeriod.objects.filter(billing_period_start=date(2026, 2, 1)).exists()
        periods = Invoice.objects.values_list("period", flat=True)
        assert sorted(periods) == [date(2025, 12, 1), JANUARY]
