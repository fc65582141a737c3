"""Importing an AWS Cost Optimization Hub export into the teams owning its resources or accounts.

The world (tests/insights/world.py): "Web team" is bound to the Team value Web (tag
team=web), "Data team" to Data (tag team=data); account A1 has more Web cost than Data cost,
A2 only Web cost (and shared cost), A3 only Data cost. Account 999999999999 has none.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from insights.models import ImportedRecommendation
from insights.scores.hub_export import parse_tags
from insights.scores.imported import imported_for_team, recommendations_import
from portal.audit.models import AuditEntry
from portal.core.errors import ApplicationError
from portal.demo.recommendations import ensure_imported_recommendations
from tests.insights.world import A1, A2, A3, World, build_world

D = Decimal
NOBODY = "999999999999"
CAMEL = [
    "recommendationId",
    "accountId",
    "region",
    "resourceId",
    "resourceArn",
    "currentResourceType",
    "recommendedResourceType",
    "estimatedMonthlySavings",
    "estimatedSavingsPercentage",
    "estimatedMonthlyCost",
    "currencyCode",
    "actionType",
    "currentResourceSummary",
    "recommendedResourceSummary",
    "implementationEffort",
    "tags",
]


def tags(**pairs: str) -> str:
    return json.dumps([{"key": k, "value": v} for k, v in pairs.items()])


def rec(rid: str, account: str, saving: str, **extra: str) -> dict[str, str]:
    row = {
        "recommendationId": rid,
        "accountId": account,
        "region": "us-east-1",
        "resourceId": f"i-{rid}",
        "currentResourceType": "Ec2Instance",
        "recommendedResourceType": "Ec2Instance",
        "estimatedMonthlySavings": saving,
        "currencyCode": "USD",
        "actionType": "Rightsize",
        "currentResourceSummary": "m5.2xlarge",
        "recommendedResourceSummary": "m5.xlarge",
        "tags": "[]",
    }
    return row | extra


def export(tmp_path: Path, rows: list[dict[str, str]], header: list[str] = CAMEL) -> Path:
    path = tmp_path / "coh.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def world(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return build_world(tmp_path, monkeypatch)


def stored() -> dict[str, ImportedRecommendation]:
    return {r.recommendation_id: r for r in ImportedRecommendation.objects.select_related("team")}


def test_rows_go_to_the_team_named_by_tags_or_owning_the_account(
    world: World, tmp_path: Path
) -> None:
    path = export(
        tmp_path,
        [
            rec(
                "rightsize-1",
                A1,
                "70.08",
                estimatedSavingsPercentage="35.0",
                estimatedMonthlyCost="200.23",
                tags=tags(team="data", env="prod"),
            ),
            rec("graviton-2", A1, "28.03", actionType="MigrateToGraviton",
                recommendedResourceSummary="m7g.2xlarge"),
            rec("ebs-3", A3, "10", currentResourceType="EbsVolume",
                recommendedResourceType="EbsVolume", actionType="Upgrade",
                currentResourceSummary="gp2 500 GiB", recommendedResourceSummary="gp3 500 GiB"),
            rec("cased-4", A2, "5.5", tags=tags(Team="data")),
            rec("audit-5", NOBODY, "60.59", tags=tags(team="security")),
        ],
    )  # fmt: skip

    report = recommendations_import(actor=world.admin, path=path)

    rows = stored()
    assert {rid: (r.team.name, r.category) for rid, r in rows.items()} == {
        "rightsize-1": ("Data team", "compute"),  # the tag, though Web owns the account
        "graviton-2": ("Web team", "compute"),  # no tags: the account's owner
        "ebs-3": ("Data team", "storage"),
        "cased-4": ("Data team", "compute"),  # the key spelled Team
    }
    first = rows["rightsize-1"]
    assert (first.owner_account, first.region, first.resource_id) == (
        A1,
        "us-east-1",
        "i-rightsize-1",
    )
    assert (first.current, first.suggested, first.monthly_saving) == (
        "m5.2xlarge",
        "m5.xlarge",
        D("70.08"),
    )
    assert first.reasoning == (
        f"Cost Optimization Hub: Rightsize m5.2xlarge to m5.xlarge in {A1} us-east-1, "
        "about 70.08 USD a month (35% of 200.23 USD)."
    )  # fmt: skip
    assert [(m.recommendation_id, m.how) for m in report.matched] == [
        ("rightsize-1", "rule"), ("graviton-2", "account"), ("ebs-3", "account"),
        ("cased-4", "rule"),
    ]  # fmt: skip
    (unmatched,) = report.unmatched
    assert (unmatched.line, unmatched.recommendation_id, unmatched.account) == (
        6,
        "audit-5",
        NOBODY,
    )
    assert unmatched.resource == "i-audit-5"
    assert unmatched.reason == (
        f"no tag names a team (team=security), and no team has cost in account {NOBODY} "
        "in the allocations of 2026-01 to 2026-02"
    )
    totals = {t.team: (t.count, t.savings) for t in report.per_team()}
    assert totals == {"Data team": (3, {"USD": D("85.58")}), "Web team": (1, {"USD": D("28.03")})}


def test_a_tag_naming_a_team_outside_the_rules_gives_it_the_row(
    world: World, tmp_path: Path
) -> None:
    path = export(tmp_path, [rec("owner-1", NOBODY, "12", tags=tags(owner="web team"))])

    report = recommendations_import(actor=None, path=path)

    assert stored()["owner-1"].team == world.web
    assert report.matched[0].how == "tag"


def test_title_case_headers_a_tag_object_and_a_gzip_file(world: World, tmp_path: Path) -> None:
    header = ["Recommendation ID", "Account ID", "Region", "Resource ARN",
              "Current resource type", "Action type", "Estimated monthly savings ($)",
              "Estimated monthly cost ($)", "Currency code", "Tags"]  # fmt: skip
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerow(["sp-1", A3, "", "arn:aws:savingsplans::x", "ComputeSavingsPlans",
                     "PurchaseSavingsPlans", "$1,234.50", "4,938.00", "USD", ""])  # fmt: skip
    writer.writerow(["rds-2", A1, "eu-west-1", "arn:aws:rds:db", "RdsDbInstance", "Rightsize",
                     "40", "", "", '{"team": "data"}'])  # fmt: skip
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(("\ufeff" + text.getvalue()).encode()))

    report = recommendations_import(actor=None, path=path)

    rows = stored()
    assert rows["sp-1"].team == world.data and rows["sp-1"].category == "compute"
    assert rows["sp-1"].monthly_saving == D("1234.50")
    assert rows["sp-1"].resource_id == "arn:aws:savingsplans::x"
    assert rows["sp-1"].reasoning == (
        "Cost Optimization Hub: Purchase Savings Plans ComputeSavingsPlans "
        f"(arn:aws:savingsplans::x) in {A3}, "
        "about 1,234.50 USD a month (25% of 4,938.00 USD)."
    )
    assert (rows["rds-2"].team, rows["rds-2"].category) == (world.data, "database")
    assert report.name == "export.csv.gz" and report.rows == 2 and not report.refused


def test_data_exports_columns_fall_back_to_the_saving_before_discount(
    world: World, tmp_path: Path
) -> None:
    header = ["recommendation_id", "account_id", "action_type", "current_resource_type",
              "estimated_monthly_savings_after_discount",
              "estimated_monthly_savings_before_discount", "currency_code", "tags"]  # fmt: skip
    rows = [
        {"recommendation_id": "de-1", "account_id": A2, "action_type": "Stop",
         "current_resource_type": "Ec2Instance", "estimated_monthly_savings_after_discount": "",
         "estimated_monthly_savings_before_discount": "33.3333333", "currency_code": "EUR",
         "tags": ""},
    ]  # fmt: skip

    recommendations_import(actor=None, path=export(tmp_path, rows, header))

    row = stored()["de-1"]
    assert (row.team, row.monthly_saving, row.currency) == (world.web, D("33.3333"), "EUR")
    assert (row.current, row.suggested) == ("Ec2Instance", "Stop")
    assert (
        row.reasoning
        == f"Cost Optimization Hub: Stop Ec2Instance in {A2}, about 33.33 EUR a month."
    )


def test_rows_that_cannot_be_read_are_refused_with_line_and_column(
    world: World, tmp_path: Path
) -> None:
    path = export(
        tmp_path,
        [
            rec("", A1, "1"),
            rec("text", A1, "abc"),
            rec("nan", A1, "NaN"),
            rec("negative", A1, "-5"),
            rec("infinite", A1, "Infinity"),
            rec("no-saving", A1, ""),
            rec("good", A1, "2"),
            rec("good", A1, "3"),
            rec("money", A1, "4", currencyCode="dollars"),
            rec("cost", A1, "4", estimatedMonthlyCost="lots"),
        ],
    )

    report = recommendations_import(actor=None, path=path)

    refused = [(r.line, r.recommendation_id, r.field, r.message) for r in report.refused]
    assert refused == [
        (2, "", "recommendationId", "no recommendation id"),
        (3, "text", "estimatedMonthlySavings", "'abc' is not a number"),
        (4, "nan", "estimatedMonthlySavings", "'NaN' is not a finite number"),
        (5, "negative", "estimatedMonthlySavings", "-5 is negative"),
        (6, "infinite", "estimatedMonthlySavings", "'Infinity' is not a finite number"),
        (7, "no-saving", "estimatedMonthlySavings", "no estimated monthly saving"),
        (9, "good", "recommendationId", "the same recommendation id is on line 8"),
        (10, "money", "currencyCode", "'DOLLARS' is not a currency code such as USD"),
        (11, "cost", "estimatedMonthlyCost", "'lots' is not a number"),
    ]
    assert list(stored()) == ["good"] and stored()["good"].monthly_saving == D("2")


def test_a_file_that_is_not_an_export_is_refused_whole(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("id,amount\n1,2\n")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"recommendationId,accountId,estimatedMonthlySavings\n\xff\xfe,1,2\n")

    with pytest.raises(ApplicationError) as columns:
        recommendations_import(actor=None, path=other)
    with pytest.raises(ApplicationError) as undecodable:
        recommendations_import(actor=None, path=binary)
    with pytest.raises(ApplicationError) as missing:
        recommendations_import(actor=None, path=tmp_path / "missing.csv")

    assert columns.value.code == "missing_columns"
    assert "no column recommendationId or accountId or estimatedMonthlySavings" in str(
        columns.value
    )
    assert undecodable.value.code == "unreadable"
    assert missing.value.code == "unreadable"
    assert not ImportedRecommendation.objects.exists()


def test_importing_again_replaces_by_id_and_replace_drops_the_rest(
    world: World, tmp_path: Path
) -> None:
    recommendations_import(
        actor=None,
        path=export(tmp_path, [rec("a", A1, "10"), rec("b", A3, "20"), rec("c", A2, "30")]),
    )
    again = export(tmp_path, [rec("a", A1, "11"), rec("b", NOBODY, "20")])

    report = recommendations_import(actor=world.admin, path=again)

    rows = stored()
    assert {rid: (r.team.name, r.monthly_saving) for rid, r in rows.items()} == {
        "a": ("Web team", D("11")),  # replaced, not duplicated
        "c": ("Web team", D("30")),  # not in the new file: kept
    }  # "b" now has no team: its old row is gone
    assert report.removed == 1

    recommendations_import(actor=None, path=export(tmp_path, [rec("d", A3, "5")]), replace=True)

    assert list(stored()) == ["d"]
    entry = AuditEntry.objects.filter(action="importedrecommendation.import").order_by("pk")[1]
    assert entry.actor == world.admin and entry.after is not None
    assert entry.after["stored"] == 1 and entry.after["unmatched"] == 1
    assert entry.after["removed"] == 1 and entry.after["teams"] == {"Web team": 1}


def test_the_command_prints_teams_then_rows_without_a_team(
    world: World, tmp_path: Path, tenant_a: Any
) -> None:
    path = export(
        tmp_path,
        [
            rec("big", A1, "1234.5"),
            rec("small", A1, "0.255"),
            rec("data", A3, "7"),
            rec("lost", NOBODY, "9", tags="[]"),
            rec("bad", A1, "x"),
        ],
    )
    out = StringIO()

    call_command("import_recommendations", "--tenant", tenant_a.schema_name, str(path), stdout=out)

    printed = out.getvalue()
    assert "coh.csv: 5 rows, 3 imported for 2 teams, 1 without a team, 1 refused." in printed
    assert "  Data team: 1 recommendations, 7.00 USD a month" in printed
    assert "  Web team: 2 recommendations, 1,234.76 USD a month" in printed
    assert (
        f"  line 5: lost, account {NOBODY}, resource i-lost: the resource has no tags, and no "
        f"team has cost in account {NOBODY} in the allocations of 2026-01 to 2026-02"
    ) in printed
    assert "  line 6: bad, estimatedMonthlySavings: 'x' is not a number" in printed


def test_the_command_fails_only_on_an_unreadable_file(tenant_a: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot open"):
        call_command("import_recommendations", "--tenant", "alpha", str(tmp_path / "none.csv"))
    with pytest.raises(CommandError, match="No tenant"):
        call_command("import_recommendations", "--tenant", "nowhere", str(tmp_path / "x.csv"))


def test_a_team_gets_only_its_own_imported_recommendations(world: World, tmp_path: Path) -> None:
    path = export(
        tmp_path,
        [
            rec("web-ec2", A1, "50"),
            rec("web-ebs", A2, "80", currentResourceType="EbsVolume", resourceId="vol-1"),
            rec("data-ec2", A3, "90"),
        ],
    )
    recommendations_import(actor=None, path=path)

    found = imported_for_team(world.web)
    storage = imported_for_team(world.web, category="storage")
    in_a1 = imported_for_team(world.web, owner=A1)

    assert [(r.resource_id, r.monthly_saving, r.owner_team) for r in found] == [
        ("vol-1", D("80.00"), "Web team"),
        ("i-web-ec2", D("50.00"), "Web team"),
    ]
    assert {r.component for r in found} == {"imported"}
    assert [r.resource_id for r in storage] == ["vol-1"]
    assert [r.resource_id for r in in_a1] == ["i-web-ec2"]
    assert imported_for_team(world.web, owner="Web team") == found
    assert [r.resource_id for r in imported_for_team(world.data)] == ["i-data-ec2"]
    visible = ImportedRecommendation.objects.visible_to(world.lead)
    assert sorted(visible.values_list("recommendation_id", flat=True)) == ["web-ebs", "web-ec2"]


def test_the_demo_export_is_imported_once(world: World) -> None:
    made: list[str] = []

    ensure_imported_recommendations(actor=None, today=date(2026, 3, 1), made=made.append)
    ensure_imported_recommendations(actor=None, today=date(2026, 3, 1), made=made.append)

    (said,) = made
    assert "without a team" in said and ImportedRecommendation.objects.count() == 9


def test_tags_in_the_shapes_exports_use() -> None:
    assert parse_tags('[{"key": "team", "value": "web"}]') == {"team": "web"}
    assert parse_tags('[{"Key": "team", "Value": "web"}]') == {"team": "web"}
    assert parse_tags('{"team": "web", "env": "prod"}') == {"team": "web", "env": "prod"}
    assert parse_tags("team=web; env=prod") == {"team": "web", "env": "prod"}
    assert parse_tags("") == {}
    assert parse_tags("[not json") is None
    assert parse_tags("team") is None
