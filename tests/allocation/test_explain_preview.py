"""Explaining a run (by value, by line item) and previewing proposed rules without keeping them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from allocation.explain import explain_line_item, explain_value, parts_sum, run_totals
from allocation.models import AllocationResult, AllocationRun, CostCategory, RuleSet
from allocation.preview import allocation_preview
from allocation.value_line_items import largest_line_items
from billing.models import CostLineItem
from portal.audit.models import AuditEntry
from portal.core.errors import ApplicationError
from portal.users.models import Role, User
from tests.allocation.run_helpers import (
    JAN,
    category_with,
    cond,
    ingest,
    regular,
    run,
    use_fake_files,
)
from tests.billing.ingest_fakes import FakeFiles, line
from tests.conftest import Api, TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")

D = Decimal
S3 = cond("service", "equals", "Amazon S3")
RULES = [regular("web", S3), {"kind": "inherited", "inherit_from": "tag:team"}]
SPLITS = [
    {
        "source": "shared",
        "method": "even",
        "targets": [{"value": "web"}, {"value": "data"}, {"value": "ops"}],
    }
]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    fake = use_fake_files(tmp_path, monkeypatch)
    ingest(
        fake,
        [
            line(billed_cost="10.00", effective_cost="0.0000001", tags='{"team": "shared"}'),
            line(billed_cost="1.00", effective_cost="1", tags='{"team": "web"}'),
            line(billed_cost="3.00", effective_cost="0", tags='{"team": "data"}'),
            line(billed_cost="5.00", effective_cost="2", tags='{"team": "ops"}'),
            line(billed_cost="0.07", effective_cost="0.07", service_name="Amazon S3"),
            line(billed_cost="0.5", effective_cost="0.5", service_name="AWS Lambda"),
        ],
    )
    return fake


@pytest.fixture
def team(files: FakeFiles) -> CostCategory:
    return category_with("Team", RULES, splits=SPLITS)


def line_item(billed: str) -> int:
    return CostLineItem.objects.get(billing_period_start=JAN, billed_cost=D(billed)).id


def test_every_values_parts_add_up_exactly_to_its_total(team: CostCategory) -> None:
    allocation = run(team)

    totals = {row["value"]: row for row in run_totals(allocation)}
    assert {value: row["billed_cost"] for value, row in totals.items()} == {
        "web": D("4.41"),
        "data": D("6.33"),
        "ops": D("8.33"),
        "Unallocated": D("0.5"),
    }
    for value in [*totals, "shared"]:
        explanation = explain_value(allocation, value)
        assert parts_sum(explanation) == explanation["total"], value
        if value in totals:
            assert explanation["total"] == {
                c: totals[value][c] for c in ("billed_cost", "effective_cost", "list_cost")
            }


def test_a_value_is_explained_by_rule_and_split(team: CostCategory) -> None:
    allocation = run(team)

    web = explain_value(allocation, "web")

    assert [(r["rule"]["position"], r["billed_cost"], r["rows"]) for r in web["rules"]] == [
        (1, D("0.07"), 1),
        (2, D("1.00"), 1),
    ]
    assert [(m["split"]["position"], m["from"], m["billed_cost"]) for m in web["moved_in"]] == [
        (1, "shared", D("3.34"))
    ]
    assert web["moved_out"] == []

    shared = explain_value(allocation, "shared")
    assert shared["total"]["billed_cost"] == 0
    # One line item, though its row was moved to three values.
    assert [(r["rule"]["kind"], r["billed_cost"], r["rows"]) for r in shared["rules"]] == [
        ("inherited", D("10.00"), 1)
    ]
    assert [(m["to"], m["billed_cost"]) for m in shared["moved_out"]] == [
        ("data", D("3.33")),
        ("ops", D("3.33")),
        ("web", D("3.34")),
    ]

    rest = explain_value(allocation, "Unallocated")
    assert [(r["rule"], r["billed_cost"]) for r in rest["rules"]] == [(None, D("0.5"))]


def test_a_line_item_names_its_rule_and_the_split_that_moved_its_cost(
    team: CostCategory,
) -> None:
    allocation = run(team)

    shared = explain_line_item(allocation, line_item("10.00"))

    assert shared["value"] == "shared"
    assert shared["rule"]["position"] == 2 and shared["rule"]["inherit_from"] == "tag:team"
    assert shared["split"]["position"] == 1
    assert [(p["value"], p["billed_cost"]) for p in shared["moved_to"]] == [
        ("data", D("3.33")),
        ("ops", D("3.33")),
        ("web", D("3.34")),
    ]

    storage = explain_line_item(allocation, line_item("0.07"))
    assert (storage["value"], storage["rule"]["position"], storage["split"]) == ("web", 1, None)

    lambda_ = explain_line_item(allocation, line_item("0.5"))
    assert (lambda_["value"], lambda_["rule"], lambda_["moved_to"]) == ("Unallocated", None, [])


def test_an_unknown_line_item_is_refused(team: CostCategory) -> None:
    with pytest.raises(ApplicationError) as refused:
        explain_line_item(run(team), 987654321)

    assert refused.value.code == "unknown_line_item"


def test_explain_over_the_api(client_a: TenantClient, team: CostCategory) -> None:
    allocation = run(team)
    finance = Api(client_a, make_user(Role.FINANCE))

    web = finance.get(f"allocation-runs/{allocation.pk}/explain/?value=web")
    assert web.status_code == 200, web.content
    body = web.json()
    # Exact text: the even split of 0.0000001 gives web its one ten-millionth.
    total = {"billed_cost": "4.41", "effective_cost": "1.0700001", "list_cost": "3.50"}
    assert body["total"] == total
    assert body["moved_in"][0]["from"] == "shared"
    assert body["moved_in"][0]["split"]["source"] == "shared"
    assert [i["billed_cost"] for i in body["largest_line_items"]] == ["1.00", "0.07"]

    item = finance.get(f"allocation-runs/{allocation.pk}/explain/?line_item={line_item('10.00')}")
    assert item.status_code == 200, item.content
    assert (item.json()["value"], item.json()["rule"]["position"]) == ("shared", 2)

    assert finance.get(f"allocation-runs/{allocation.pk}/explain/").status_code == 400
    missing = finance.get(f"allocation-runs/{allocation.pk}/explain/?line_item=987654321")
    assert (missing.status_code, missing.json()["code"]) == (400, "unknown_line_item")


def test_a_values_largest_line_items_are_those_its_rules_gave_it(team: CostCategory) -> None:
    allocation = run(team)

    web = largest_line_items(allocation, "web")
    shared = largest_line_items(allocation, "shared")
    unallocated = largest_line_items(allocation, "Unallocated", limit=1)

    # web: the S3 line (rule 1) and the one tagged web (rule 2), largest first; not the
    # cost the "shared" split moved in.
    assert [item["billed_cost"] for item in web] == [D("1.00"), D("0.07")]
    assert [item["id"] for item in web] == [line_item("1.00"), line_item("0.07")]
    s3 = CostLineItem.objects.get(id=web[1]["id"])
    assert (web[1]["service_name"], web[1]["day"]) == ("Amazon S3", s3.charge_period_start.date())
    assert [item["billed_cost"] for item in shared] == [D("10.00")]
    assert [item["service_name"] for item in unallocated] == ["AWS Lambda"]
    for item in web + shared + unallocated:
        assert explain_line_item(allocation, item["id"])["value"] in (
            "web",
            "shared",
            "Unallocated",
        )
    assert largest_line_items(allocation, "nobody") == []


def test_the_explain_page_links_the_largest_line_items_to_their_explanation(
    client_a: TenantClient, team: CostCategory
) -> None:
    allocation = run(team)
    client_a.force_login(make_user(Role.FINANCE))
    path = f"/allocation/runs/{allocation.pk}/explain/"

    page = client_a.get(path, {"value": "web"}).content.decode()
    item = line_item("1.00")
    link = f'?value=web&amp;line_item={item}#line-item">{item}</a>'
    assert link in page and "Largest line items its rules gave it" in page
    assert str(line_item("10.00")) + "</a>" not in page  # shared's, moved in by a split only
    explained = client_a.get(path, {"value": "web", "line_item": str(item)}).content.decode()
    assert "<dt>Rule</dt><dd>Rule 2: value from tag:team</dd>" in explained


# Preview --------------------------------------------------------------------------------


def stored() -> tuple[int, int, int, int]:
    return (
        RuleSet.objects.count(),
        AllocationRun.objects.count(),
        AllocationResult.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_preview_reports_the_changes_and_keeps_nothing(team: CostCategory) -> None:
    current = run(team)
    before = stored()

    preview = allocation_preview(
        actor=None, category=team, period=JAN, rules=[regular("web", S3)], splits=[]
    )

    assert stored() == before
    assert AllocationRun.objects.get(pk=current.pk).results.count() > 0
    assert preview["current_run"] == current.pk
    billed = {
        row["value"]: (
            row["current"]["billed_cost"],
            row["proposed"]["billed_cost"],
            row["change"]["billed_cost"],
        )
        for row in preview["values"]
    }
    assert billed == {
        "Unallocated": (D("0.5"), D("19.50"), D("19.00")),
        "data": (D("6.33"), D(0), D("-6.33")),
        "ops": (D("8.33"), D(0), D("-8.33")),
        "web": (D("4.41"), D("0.07"), D("-4.34")),
    }


def test_a_preview_over_the_api_refuses_bad_rules_with_the_services_code(
    client_a: TenantClient, admin_a: User, team: CostCategory
) -> None:
    run(team)
    admin = Api(client_a, admin_a)
    before = stored()

    bad = admin.post(
        f"cost-categories/{team.pk}/preview/",
        {"period": "2026-01", "rules": [{"value": "x", "expression": {"all": []}}]},
    )
    good = admin.post(
        f"cost-categories/{team.pk}/preview/",
        {"period": "2026-01", "rules": RULES, "splits": []},
    )

    assert bad.status_code == 400
    assert (bad.json()["code"], bad.json()["field"]) == ("invalid_rule", "rules[0].expression.all")
    assert good.status_code == 200, good.content
    rows = {row["value"]: row for row in good.json()["values"]}
    assert rows["shared"]["proposed"]["billed_cost"] == "10"  # exact, no trailing zeros
    assert rows["shared"]["current"]["billed_cost"] == "0"
    assert rows["web"]["change"]["billed_cost"] == "-3.34"
    assert good.json()["notes"] == []
    assert stored() == before


def test_a_preview_names_a_rule_that_would_match_nothing(team: CostCategory) -> None:
    typo = regular("web", cond("tag", "equals", "web", key="taem"))

    preview = allocation_preview(actor=None, category=team, period=JAN, rules=[typo], splits=[])

    assert preview["notes"] == [
        'Rule 1 ("web") matched no cost in 2026-01: no line item meets its conditions, '
        "or earlier rules take all those that do."
    ]


def test_a_preview_without_a_current_run_compares_with_nothing(team: CostCategory) -> None:
    preview = allocation_preview(actor=None, category=team, period=JAN, rules=RULES, splits=SPLITS)

    assert preview["current_run"] is None
    assert {row["value"]: row["change"]["billed_cost"] for row in preview["values"]} == {
        "web": D("4.41"),
        "data": D("6.33"),
        "ops": D("8.33"),
        "Unallocated": D("0.5"),
    }
    assert AllocationRun.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FINANCE, Role.TEAM_LEAD])
def test_only_admins_preview(client_a: TenantClient, team: CostCategory, role: str) -> None:
    other = Api(client_a, make_user(role))

    response = other.post(f"cost-categories/{team.pk}/preview/", {"period": "2026-01", "rules": []})

    assert response.status_code == 403
