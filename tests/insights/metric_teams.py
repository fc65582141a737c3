"""Three teams and an admin and a team lead, for the business metrics' tests; helpers to
upload and to read what is stored."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import Team
from billing.services.customers import team_create
from insights.models import BusinessMetric
from portal.users.models import Role, User
from tests.conftest import Api, make_user

HEADER = "date,team,metric,value\n"


@dataclass
class Teams:
    admin: User
    lead: User  # leads Web, member of Data
    web: Team
    data: Team
    ops: Team  # neither led nor joined by the lead


@pytest.fixture
def teams(tenant_a: Any) -> Teams:
    admin = make_user(Role.ADMIN, "metrics-admin")
    lead = make_user(Role.TEAM_LEAD, "metrics-lead")
    web = team_create(actor=admin, name="Web", leads=[lead])
    data = team_create(actor=admin, name="Data", members=[lead])
    ops = team_create(actor=admin, name="Ops")
    return Teams(admin, lead, web, data, ops)


def stored() -> dict[tuple[str, str, date], Decimal]:
    return {
        (row.team.name, row.metric, row.day): row.value
        for row in BusinessMetric.objects.select_related("team")
    }


def post_csv(api: Api, content: bytes | str, name: str = "metrics.csv") -> Any:
    raw = content.encode() if isinstance(content, str) else content
    return api.client.post(
        "/api/v1/business-metrics/",
        {"file": SimpleUploadedFile(name, raw, content_type="text/csv")},
        HTTP_AUTHORIZATION=api.auth,
    )


def page_text(response: Any) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return " ".join(text.split())
