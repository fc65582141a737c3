"""The API describes itself: a root listing its resources, an OpenAPI schema, its docs."""

from __future__ import annotations

import io
import json
from typing import Any

import yaml
from django.core.management import call_command

from portal.tenants.models import Tenant
from portal.users.models import Role, User
from tests.conftest import TENANT_HOSTS, Api, TenantClient, make_user

HOST = TENANT_HOSTS["alpha"]


def test_the_api_root_lists_every_resource_with_its_address(
    client_a: TenantClient, admin_a: User
) -> None:
    api = Api(client_a, admin_a)
    response = api.get("")
    assert response.status_code == 200, response.content
    resources = response.json()
    assert resources["organizations"] == f"http://{HOST}/api/v1/organizations/"
    assert resources["invoices"] == f"http://{HOST}/api/v1/invoices/"
    assert resources["reconciliation"] == f"http://{HOST}/api/v1/reconciliation/"
    assert resources["schema"] == f"http://{HOST}/api/v1/schema/"
    assert resources["docs"] == f"http://{HOST}/api/v1/docs/"
    listed = {name for name in resources if name not in ("auth/token", "schema", "docs")}
    assert {"users", "audit", "ingests", "cost-categories", "invoice-runs"} <= listed
    assert {"costs", "costs.csv", "costs/options"} <= listed
    for name in listed - {"reconciliation", "costs/values"}:  # they need a period, a dimension
        path = name if "." in name else f"{name}/"
        assert api.get(path).status_code == 200, name


def test_the_api_root_asks_a_stranger_to_sign_in(client_a: TenantClient) -> None:
    response = client_a.get("/api/v1/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_the_schema_is_openapi_3_in_yaml_and_json_without_signing_in(
    client_a: TenantClient,
) -> None:
    as_yaml = client_a.get("/api/v1/schema/")
    assert as_yaml.status_code == 200
    schema = yaml.safe_load(as_yaml.content)
    assert schema["openapi"].startswith("3.")
    as_json = client_a.get("/api/v1/schema/", {"format": "json"})
    assert as_json.status_code == 200
    assert json.loads(as_json.content)["paths"] == schema["paths"]


def _schema(client: TenantClient) -> dict[str, Any]:
    return dict(json.loads(client.get("/api/v1/schema/", {"format": "json"}).content))


def test_the_schema_describes_every_resource_of_the_root(
    client_a: TenantClient, admin_a: User
) -> None:
    paths = _schema(client_a)["paths"]
    for address in Api(client_a, admin_a).get("").json().values():
        path = address.removeprefix(f"http://{HOST}")
        if not path.endswith(("/schema/", "/docs/")):
            assert path in paths, path


def test_the_schema_names_the_query_parameters_the_code_reads(client_a: TenantClient) -> None:
    paths = _schema(client_a)["paths"]

    def query(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    assert {"period", "status", "kind", "unit", "limit", "offset"} <= query("/api/v1/invoices/")
    assert {"value", "line_item"} <= query("/api/v1/allocation-runs/{id}/explain/")
    assert {"category", "period"} <= query("/api/v1/allocation-runs/")
    assert {"organization", "ou"} <= query("/api/v1/accounts/")
    assert {"object_type", "object_id", "actor"} <= query("/api/v1/audit/")
    assert "period" in query("/api/v1/reconciliation/")


def test_the_schema_describes_errors_in_the_apis_error_shape(client_a: TenantClient) -> None:
    schema = _schema(client_a)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message"}
    assert {"field", "errors"} <= set(error["properties"])
    retrieve = schema["paths"]["/api/v1/invoices/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= set(retrieve)
    body = retrieve["404"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Error"}
    create = schema["paths"]["/api/v1/organizations/"]["post"]
    assert "400" in create["responses"]
    # A write reads its input serializer, not the shape it answers with.
    request = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request.endswith("/OrganizationCreateInputRequest")
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "400" in token and "401" not in token


def test_operations_that_answer_405_are_left_out(client_a: TenantClient) -> None:
    transfer = _schema(client_a)["paths"]["/api/v1/transfers/{id}/"]
    assert set(transfer) == {"get"}


def test_the_schema_generates_without_a_warning() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert out.getvalue().startswith("openapi: 3")


def test_the_docs_are_swagger_ui_with_assets_served_by_the_portal(
    client_a: TenantClient,
) -> None:
    page = client_a.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/api/v1/schema/" in html
    assert "cdn" not in html.lower() and "https://" not in html
    asset = client_a.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_every_role_finds_the_api_docs_from_the_menu(tenant_a: Tenant) -> None:
    for role in (Role.ADMIN, Role.TEAM_LEAD, Role.END_CUSTOMER):
        person = make_user(role, f"menu-{role}")
        client = TenantClient(HOST)
        client.force_login(person)
        assert '<a href="/api/v1/docs/"' in client.get("/").content.decode()
