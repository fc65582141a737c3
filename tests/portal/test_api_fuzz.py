"""Every operation of the API schema, fuzzed on a live server as an admin and an end customer.

schemathesis generates requests from the schema the portal serves (valid ones, and ones the
schema forbids) and checks each answer: no server error, a documented status code and
content type, a body that matches the schema. The server runs in a thread on its own
database connection, so the tenant it serves is committed, and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
import schemathesis
from celery.app.task import Task
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billing.services import end_customer_create, organization_create, ou_create, team_create
from invoices.models import Invoice
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.users.models import Role, User
from tests.allocation.run_helpers import use_fake_files
from tests.billing.ingest_fakes import FakeFiles
from tests.committed import committed_tenant
from tests.conftest import Api, TenantClient, make_user
from tests.invoices.world import JAN, allocate, plan, seller, unit

SCHEMA = "api_fuzz"
HOST = "api-fuzz.test.localhost"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Requests per operation, role and kind of data (about 90 operations): some 3 minutes.
EXAMPLES = 3
# The admin gets valid and invalid requests; the end customer valid ones, as the role
# check refuses their writes before any input is read.
MODES = {
    "admin": (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    "end customer": (GenerationMode.POSITIVE,),
}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _seed(admin: User, customer_user: User, files: FakeFiles) -> None:
    """Rows of every kind, so that requests naming small ids find some: an organization
    tree, a team, a month's bill allocated and invoiced (the customer's invoice issued)."""
    organization = organization_create(
        actor=admin, name="Fuzz org", management_account_id="111122223333"
    )
    ou_create(actor=admin, organization=organization, name="Platform")
    team_create(actor=admin, name="Data", leads=[admin])
    allocate(files)
    seller()
    globex = end_customer_create(actor=admin, legal_name="Globex", viewers=[customer_user])
    standard = plan(everything="10")
    unit("Globex", standard, end_customer=globex)
    unit("Initech", standard)
    invoice_drafts_create(period=JAN)
    invoice_issue(actor=admin, invoice=Invoice.objects.get(unit__value="Globex"))


def _serve(server: WSGIServer) -> None:
    """Serve on one kept database connection (one per request is slow), closed at the end."""
    connection = connections["default"]  # this thread's own
    connection.settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": None}
    try:
        server.serve_forever()
    finally:
        connections.close_all()


@dataclass
class LiveApi:
    base_url: str
    tokens: dict[str, str]


@pytest.fixture
def live_api(
    django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> Iterator[LiveApi]:
    """A tenant with a few rows of each kind, served over HTTP by a thread."""
    # Queued work (ingests, runs) is not under test here: nothing goes to the broker.
    monkeypatch.setattr(Task, "apply_async", lambda self, *args, **kwargs: None)
    settings.MEDIA_ROOT = str(tmp_path)  # uploaded bills
    with committed_tenant(django_db_blocker, SCHEMA):
        admin = User.objects.get(username="admin")
        customer_user = make_user(Role.END_CUSTOMER, "customer")
        _seed(admin, customer_user, use_fake_files(tmp_path, monkeypatch))
        tokens = {
            "admin": Token.objects.create(user=admin).key,
            "end customer": Token.objects.create(user=customer_user).key,
        }
        server = make_server(
            "127.0.0.1", 0, WSGIHandler(), server_class=WSGIServer, handler_class=_QuietHandler
        )
        thread = threading.Thread(target=_serve, args=(server,), daemon=True)
        thread.start()
        try:
            yield LiveApi(f"http://127.0.0.1:{server.server_port}", tokens)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _fuzz(
    operation: Any, mode: GenerationMode, api: LiveApi, token: str, succeeded: set[str]
) -> str | None:
    """The first failure schemathesis finds in the operation, with the request that made it;
    the operation's label goes into `succeeded` when a request of it succeeded."""
    session = requests.Session()
    session.headers.update({"Host": HOST, "Authorization": f"Token {token}"})
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        if found:
            return
        response = case.call(base_url=api.base_url, session=session)
        if response.status_code < 300:
            succeeded.add(operation.label)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:
            found.append(f"{failure}\n{case.as_curl_command()}")

    # Unsatisfiable: nothing in the operation can be made invalid (no parameters, no body).
    with contextlib.suppress(Unsatisfiable):
        run()
    return found[0] if found else None


def test_every_api_operation_answers_as_its_schema_says(live_api: LiveApi) -> None:
    raw = requests.get(
        f"{live_api.base_url}/api/v1/schema/", params={"format": "json"}, headers={"Host": HOST}
    )
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(raw.json())
    results = list(schema.get_all_operations())
    unreadable = [result.err() for result in results if isinstance(result, Err)]
    assert not unreadable
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) > 80

    failures = []
    succeeded: dict[str, set[str]] = {role: set() for role in live_api.tokens}
    for role, token in live_api.tokens.items():
        for operation in operations:
            for mode in MODES[role]:
                failure = _fuzz(operation, mode, live_api, token, succeeded[role])
                if failure:
                    failures.append(f"{operation.label} as {role} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)
    # The requests got past authentication and reached rows, not only refusals.
    lists = {f"GET {op.path}" for op in operations if op.method == "get" and "{" not in op.path}
    assert lists - {"GET /api/v1/reconciliation/"} <= succeeded["admin"]
    assert {"GET /api/v1/invoices/", "GET /api/v1/seller-profile/"} & succeeded["end customer"]
    assert len(succeeded["admin"]) > 40, sorted(succeeded["admin"])


# What the fuzzing found, each kept as a plain test --------------------------------------


def test_explaining_a_run_by_a_malformed_id_is_not_found(
    client_a: TenantClient, admin_a: User
) -> None:
    response = Api(client_a, admin_a).get("allocation-runs/x1/explain/", {"value": "Data"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_an_organization_change_without_a_name_is_refused_by_field(
    client_a: TenantClient, admin_a: User
) -> None:
    api = Api(client_a, admin_a)
    created = api.post("organizations/", {"name": "Org", "management_account_id": "123456789012"})
    assert created.status_code == 201, created.content
    response = api.patch(f"organizations/{created.json()['id']}/", {})
    assert response.status_code == 400
    assert response.json()["field"] == "name"


def test_a_new_user_given_is_active_is_created(client_a: TenantClient, admin_a: User) -> None:
    body = {"username": "fin", "password": "Ledger-balance-42", "role": Role.FINANCE}
    response = Api(client_a, admin_a).post("users/", {**body, "is_active": True})
    assert response.status_code == 201, response.content
    assert User.objects.get(username="fin").is_active


def test_the_seller_profile_before_it_is_saved_matches_its_schema(
    client_a: TenantClient, admin_a: User
) -> None:
    profile = Api(client_a, admin_a).get("seller-profile/").json()
    schema = json.loads(client_a.get("/api/v1/schema/", {"format": "json"}).content)
    described = schema["components"]["schemas"]["SellerProfile"]["properties"]["id"]
    assert profile["id"] is None and described.get("nullable") is True
