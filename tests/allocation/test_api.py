"""The cost category API: admins write, finance and reseller admins read, others see nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation.models import CostCategory, RuleSet
from allocation.services import cost_category_create, ruleset_create
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.conftest import Api, TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")

EC2 = {"field": "service", "op": "equals", "values": ["AmazonEC2"]}


@pytest.fixture
def admin(client_a: TenantClient, admin_a: User) -> Api:
    return Api(client_a, admin_a)


@pytest.fixture
def team(admin_a: User) -> CostCategory:
    return cost_category_create(actor=admin_a, name="Team")


def test_an_admin_creates_lists_and_renames_categories(admin: Api) -> None:
    created = admin.post("cost-categories/", {"name": "Team", "default_value": "Other"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["fallback_value"]) == ("Team", "Other")

    changed = admin.patch(f"cost-categories/{body['id']}/", {"name": "Squad"})
    assert changed.status_code == 200 and changed.json()["name"] == "Squad"

    listed = admin.get("cost-categories/").json()["results"]
    assert [row["name"] for row in listed] == ["Squad"]
    assert AuditEntry.objects.filter(object_type="allocation.CostCategory").count() == 2


def test_a_taken_name_is_refused_with_code_and_field(admin: Api, team: CostCategory) -> None:
    response = admin.post("cost-categories/", {"name": "TEAM"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "category_taken",
        "message": "A cost category named 'TEAM' exists.",
        "field": "name",
    }


def test_a_version_is_posted_and_listed(admin: Api, team: CostCategory) -> None:
    posted = admin.post(
        f"cost-categories/{team.pk}/versions/",
        {
            "effective_month": "2026-03-01",
            "rules": [{"value": "Compute", "expression": EC2}],
            "splits": [
                {
                    "source": "Compute",
                    "method": "fixed",
                    "targets": [
                        {"value": "Web", "percent": 60},
                        {"value": "Data", "percent": "40"},
                    ],
                }
            ],
        },
    )
    assert posted.status_code == 201, posted.content
    body = posted.json()
    assert (body["number"], body["effective_month"], body["created_by"]) == (
        1,
        "2026-03-01",
        "alice-admin",
    )
    assert body["rules"][0]["expression"] == {**EC2, "case_sensitive": True}
    assert body["splits"][0]["targets"][0] == {"value": "Web", "percent": "60"}

    listed = admin.get(f"cost-categories/{team.pk}/versions/")
    assert listed.status_code == 200
    assert [v["id"] for v in listed.json()["results"]] == [body["id"]]


def test_a_bad_rule_is_refused_with_a_400_naming_rule_and_field(
    admin: Api, team: CostCategory
) -> None:
    bad = {"any": [EC2, {"field": "region", "op": "starts_with"}]}

    response = admin.post(
        f"cost-categories/{team.pk}/versions/",
        {"effective_month": "2026-03-01", "rules": [{"value": "Compute", "expression": bad}]},
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_rule",
        "message": "rule 1 (\"Compute\"): any[1].values: 'starts_with' needs values",
        "field": "rules[0].expression.any[1].values",
    }
    assert not RuleSet.objects.exists()


def test_a_request_of_the_wrong_shape_is_refused(admin: Api, team: CostCategory) -> None:
    response = admin.post(f"cost-categories/{team.pk}/versions/", {"rules": "none"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_version_list_takes_a_constant_number_of_queries(
    admin: Api, admin_a: User, team: CostCategory
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(f"cost-categories/{team.pk}/versions/").status_code == 200
        return len(captured)

    ruleset_create(actor=admin_a, category=team, effective_month=date(2026, 1, 1), rules=[])
    one = queries()
    for month in (2, 3, 4):
        ruleset_create(
            actor=admin_a,
            category=team,
            effective_month=date(2026, month, 1),
            rules=[{"value": "Compute", "expression": EC2}],
            splits=[{"source": "Compute", "method": "even", "targets": [{"value": "Web"}]}],
        )

    assert queries() == one


@pytest.mark.parametrize("role", [Role.FINANCE, Role.RESELLER_ADMIN])
def test_finance_and_reseller_admins_read_but_cannot_write(
    client_a: TenantClient, admin_a: User, team: CostCategory, role: str
) -> None:
    ruleset_create(actor=admin_a, category=team, effective_month=date(2026, 1, 1), rules=[])
    reader = Api(client_a, make_user(role))

    assert [c["name"] for c in reader.get("cost-categories/").json()["results"]] == ["Team"]
    assert reader.get(f"cost-categories/{team.pk}/versions/").json()["count"] == 1
    assert reader.post("cost-categories/", {"name": "BU"}).status_code == 403
    assert reader.patch(f"cost-categories/{team.pk}/", {"name": "X"}).status_code == 403
    refused = reader.post(
        f"cost-categories/{team.pk}/versions/", {"effective_month": "2026-03-01", "rules": []}
    )
    assert refused.status_code == 403
    assert RuleSet.objects.count() == 1


@pytest.mark.parametrize("role", [Role.TEAM_LEAD, Role.END_CUSTOMER])
def test_other_roles_see_no_categories(
    client_a: TenantClient, team: CostCategory, role: str
) -> None:
    reader = Api(client_a, make_user(role))

    assert reader.get("cost-categories/").json()["results"] == []
    assert reader.get(f"cost-categories/{team.pk}/versions/").status_code == 404


def test_the_category_list_takes_a_constant_number_of_queries(admin: Api, admin_a: User) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("cost-categories/").status_code == 200
        return len(captured)

    cost_category_create(actor=admin_a, name="Team")
    one = queries()
    for name in ("Business unit", "Customer", "Environment"):
        cost_category_create(actor=admin_a, name=name)

    assert queries() == one
