"""Allocation runs over stored line items: rules in SQL, first match wins, exact totals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create
from billing.models import Account, Organization, OrganizationalUnit
from portal.audit.models import AuditEntry
from tests.allocation.run_helpers import (
    JAN,
    category_with,
    cond,
    ingest,
    regular,
    run,
    totals,
    use_fake_files,
)
from tests.billing.ingest_fakes import FakeFiles, line

pytestmark = pytest.mark.usefixtures("tenant_a")

D = Decimal
DEV = {"sub_account_id": "210000000002", "sub_account_name": "dev"}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    return use_fake_files(tmp_path, monkeypatch)


def services(files: FakeFiles, *names: str, **extra: Any) -> None:
    """One line item of 1.00 per service name."""
    ingest(files, [line(service_name=name, billed_cost="1.00", **extra) for name in names])


@pytest.mark.parametrize(
    ("op", "values", "case_sensitive", "matched"),
    [
        ("equals", ["Amazon S3"], True, "1.00"),
        ("equals", ["amazon s3"], True, "0"),
        ("equals", ["amazon s3"], False, "1.00"),
        ("one_of", ["Amazon S3", "AWS Lambda"], True, "2.00"),
        ("one_of", ["AMAZON S3", "aws lambda"], False, "2.00"),
        ("starts_with", ["Amazon"], True, "2.00"),
        ("starts_with", ["amazon"], False, "2.00"),
        ("ends_with", ["S3", "Lambda"], True, "2.00"),
        ("ends_with", ["s3"], False, "1.00"),
        ("contains", ["zon E"], True, "1.00"),
        ("contains", ["ZON"], False, "2.00"),
        ("contains", ["100%_"], True, "0"),
        ("present", [], True, "3.00"),
        ("absent", [], True, "1.00"),
    ],
)
def test_each_operator_matches_stored_line_items(
    files: FakeFiles, op: str, values: list[str], case_sensitive: bool, matched: str
) -> None:
    services(files, "Amazon S3", "Amazon EC2", "AWS Lambda", None)  # type: ignore[arg-type]
    expression = cond("service", op, *values, case_sensitive=case_sensitive)
    category = category_with("Kind", [regular("Hit", expression)])

    result = totals(run(category))

    assert result.get("Hit", D(0)) == D(matched)
    assert sum(result.values()) == D("4.00")


def test_the_first_matching_rule_wins_and_the_rest_gets_the_default(files: FakeFiles) -> None:
    services(files, "Amazon S3", "Amazon EC2", "AWS Lambda")
    rules = [
        regular("Storage", cond("service", "equals", "Amazon S3")),
        regular("Amazon", cond("service", "starts_with", "Amazon")),
    ]
    with_default = category_with("Kind", rules, default_value="Other")
    without_default = category_with("Kind 2", rules)

    assert totals(run(with_default)) == {"Storage": 1, "Amazon": 1, "Other": 1}
    assert totals(run(without_default)) == {"Storage": 1, "Amazon": 1, "Unallocated": 1}
    storage = AllocationResult.objects.get(run__category=with_default, value="Storage")
    assert storage.rule is not None and storage.rule.position == 1
    assert AllocationResult.objects.get(run__category=with_default, value="Other").rule is None


def test_a_run_names_the_rules_that_matched_nothing_and_the_splits_that_shared_nothing(
    files: FakeFiles,
) -> None:
    services(files, "Amazon S3", "Amazon EC2", "AWS Lambda")
    rules = [
        regular("Amazon", cond("service", "starts_with", "Amazon")),
        regular("Storage", cond("service", "equals", "Amazon S3")),  # taken by rule 1
        regular("Typo", cond("tag", "equals", "web", key="tema")),
        regular("Functions", cond("service", "equals", "AWS Lambda")),
    ]
    splits = [{"source": "Typo", "method": "even", "targets": [{"value": "Amazon"}]}]
    category = category_with("Kind", rules, splits=splits)

    notes = run(category).notes

    assert notes == [
        'Split 1 ("Typo"): no cost went to "Typo", so it shared nothing.',
        'Rule 2 ("Storage") matched no cost in 2026-01: no line item meets its conditions, '
        "or earlier rules take all those that do.",
        'Rule 3 ("Typo") matched no cost in 2026-01: no line item meets its conditions, '
        "or earlier rules take all those that do.",
    ]


def test_all_any_not_combine_and_a_missing_value_never_matches(files: FakeFiles) -> None:
    ingest(
        files,
        [
            line(billed_cost="1", region_id="us-east-1", tags='{"env": "prod"}'),
            line(billed_cost="2", region_id="eu-west-1", tags='{"env": "dev"}'),
            line(billed_cost="4", region_id=None),
        ],
    )
    expression = {
        "any": [
            {"all": [cond("region", "equals", "us-east-1"), cond("tag", "present", key="env")]},
            {"not": cond("region", "starts_with", "us-")},
        ]
    }
    category = category_with("Mixed", [regular("Hit", expression)])

    # The row without a region: "starts with us-" is false, so "not" of it is true.
    assert totals(run(category)) == {"Hit": 7}


def test_tag_conditions_and_presence(files: FakeFiles) -> None:
    ingest(
        files,
        [
            line(billed_cost="1", tags='{"team": "web"}'),
            line(billed_cost="2", tags='{"team": "Data", "env": "prod"}'),
            line(billed_cost="4", tags='{"env": "prod"}'),
            line(billed_cost="8"),
        ],
    )
    rules = [
        regular("Web", cond("tag", "equals", "web", key="team")),
        regular("Data", cond("tag", "one_of", "data", key="team", case_sensitive=False)),
        regular("No team", cond("tag", "absent", key="team")),
    ]
    category = category_with("Team", rules)

    # A row without tags lacks the key too.
    assert totals(run(category)) == {"Web": 1, "Data": 2, "No team": 12}


def test_payer_account_and_other_dimensions(files: FakeFiles) -> None:
    ingest(
        files,
        [
            line(billed_cost="1", sub_account_id="210000000001", sub_account_name="prod"),
            line(billed_cost="2", sub_account_id="210000000002", sub_account_name="dev"),
            line(billed_cost="4", charge_category="Tax", x_usage_type="Tax"),
            line(billed_cost="8", x_usage_type="USE1-BoxUsage:t3.micro"),
        ],
    )
    rules = [
        regular("Tax", cond("charge_category", "equals", "Tax")),
        regular("Boxes", cond("usage_type", "contains", "BoxUsage")),
        regular("By name", cond("account", "equals", "dev")),
        regular("By id", cond("account", "equals", "210000000001")),
    ]
    payer = category_with("Payer", [regular("Ours", cond("payer", "equals", "111122223333"))])
    category = category_with("Dimensions", rules)

    assert totals(run(category)) == {"Tax": 4, "Boxes": 8, "By name": 2, "By id": 1}
    assert totals(run(payer)) == {"Ours": 15}


def test_inherited_values_from_tag_and_account_name(files: FakeFiles) -> None:
    ingest(
        files,
        [
            line(billed_cost="1", tags='{"team": "web"}'),
            line(billed_cost="2", tags='{"team": ""}', **DEV),
            line(billed_cost="4", **DEV),
        ],
    )
    inherit_tag = {"kind": "inherited", "inherit_from": "tag:team"}
    inherit_account = {"kind": "inherited", "inherit_from": "account_name"}
    by_tag = category_with("Team", [inherit_tag])
    both = category_with("Owner", [inherit_tag, inherit_account])

    # An empty tag value does not match: the row falls through to the next rule.
    assert totals(run(by_tag)) == {"web": 1, "Unallocated": 6}
    assert totals(run(both)) == {"web": 1, "dev": 6}


def test_ou_conditions_include_the_units_below(files: FakeFiles) -> None:
    ingest(
        files,
        [
            line(billed_cost="1", sub_account_id="210000000001", sub_account_name="a"),
            line(billed_cost="2", sub_account_id="210000000002", sub_account_name="b"),
            line(billed_cost="4", sub_account_id="210000000003", sub_account_name="c"),
        ],
    )
    organization = Organization.objects.get()
    engineering = OrganizationalUnit.objects.create(organization=organization, name="Eng")
    platform = OrganizationalUnit.objects.create(
        organization=organization, parent=engineering, name="Platform", depth=2
    )
    Account.objects.filter(account_id="210000000001").update(ou=engineering)
    Account.objects.filter(account_id="210000000002").update(ou=platform)
    by_id = category_with("Unit", [regular("Eng", cond("ou", "equals", str(engineering.pk)))])
    by_name = category_with(
        "Unit 2", [regular("Plat", cond("ou", "equals", "platform", case_sensitive=False))]
    )
    at_root = category_with("Root", [regular("Root", cond("ou", "absent"))])

    assert totals(run(by_id)) == {"Eng": 3, "Unallocated": 4}
    assert totals(run(by_name)) == {"Plat": 2, "Unallocated": 5}
    assert totals(run(at_root)) == {"Root": 4, "Unallocated": 3}


def test_a_rule_may_look_at_another_categorys_value(files: FakeFiles) -> None:
    services(files, "Amazon S3", "Amazon EC2", "AWS Lambda")
    category_with("Kind", [regular("Storage", cond("service", "equals", "Amazon S3"))])
    rules = [
        regular("Keep", cond("category", "equals", "Storage", category="Kind")),
        regular(
            "Rest", cond("category", "equals", "unallocated", category="Kind", case_sensitive=False)
        ),
    ]
    team = category_with("Team", rules)

    assert totals(run(team)) == {"Keep": 1, "Rest": 2}


def test_a_category_without_a_version_gives_everything_its_default(files: FakeFiles) -> None:
    services(files, "Amazon S3", "Amazon EC2")
    category = cost_category_create(actor=None, name="Empty", default_value="Shared")

    allocation = run(category)

    assert totals(allocation) == {"Shared": 2}
    assert allocation.ruleset is None and "No version" in allocation.notes[0]


def test_running_again_replaces_the_previous_runs_results_and_keeps_its_record(
    files: FakeFiles,
) -> None:
    services(files, "Amazon S3")
    category = category_with("Kind", [regular("Storage", cond("service", "equals", "Amazon S3"))])
    first = run(category)
    ingest(files, [line(service_name="Amazon S3", billed_cost="5")], name="jan-v2.csv")

    second = run(category)

    runs = AllocationRun.objects.filter(category=category).order_by("pk")
    assert [(r.pk, r.status) for r in runs] == [(first.pk, "replaced"), (second.pk, "succeeded")]
    assert runs[0].ruleset == first.ruleset
    assert not AllocationResult.objects.filter(run_id=first.pk).exists()
    assert totals(second) == {"Storage": 5}
    entry = AuditEntry.objects.filter(action="allocationrun.execute").latest("pk")
    assert entry.after is not None and entry.after["replaced_runs"] == [first.pk]


def test_a_failed_run_keeps_the_previous_results(
    files: FakeFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    services(files, "Amazon S3")
    category = category_with("Kind", [])
    first = run(category)

    def broken(*args: Any) -> list[str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr("allocation.engine.run.write_results", broken)
    with pytest.raises(RuntimeError):
        allocation_run_now(actor=None, category=category, period=JAN)

    assert totals(AllocationRun.objects.get(pk=first.pk)) == {"Unallocated": 1}
    failed = AllocationRun.objects.get(status=RunStatus.FAILED)
    assert failed.notes == ["disk full"]


def test_results_keep_day_account_and_service(files: FakeFiles) -> None:
    ingest(
        files,
        [
            line(billed_cost="1", charge_period_start="2026-01-05T23:00:00Z"),
            line(billed_cost="2", charge_period_start="2026-01-05T01:00:00Z"),
            line(billed_cost="4", charge_period_start="2026-01-06T00:00:00Z"),
        ],
    )
    category: CostCategory = category_with("Kind", [])

    rows = run(category).results.order_by("day")

    assert [(r.day.day, r.billed_cost, r.row_count) for r in rows] == [(5, 3, 2), (6, 4, 1)]
    assert {(r.sub_account_id, r.service_name) for r in rows} == {("210000000001", "Amazon EC2")}


def test_values_are_bound_not_put_into_the_sql(files: FakeFiles) -> None:
    tricky = "O'Brien'); DROP TABLE billing_tagset; --"
    ingest(files, [line(billed_cost="1", tags='{"owner": "' + tricky.replace('"', "") + '"}')])
    rules = [regular(tricky, cond("tag", "equals", tricky, key="owner"))]
    category = category_with("Owner", rules)

    assert totals(run(category)) == {tricky: 1}


def test_a_category_with_runs_can_still_be_deleted(files: FakeFiles) -> None:
    services(files, "Amazon S3")
    category = category_with("Kind", [regular("S3", cond("service", "equals", "Amazon S3"))])
    run(category)

    category.delete()

    assert not AllocationRun.objects.exists() and not AllocationResult.objects.exists()
