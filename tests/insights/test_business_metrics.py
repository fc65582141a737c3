"""Teams' business metrics: a CSV upload (page or API) or JSON items, stored all or nothing;
every refused row named by its line and field; a value replacing the stored one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from insights.models import BusinessMetric
from portal.audit.models import AuditEntry
from tests.conftest import Api, TenantClient
from tests.insights.metric_teams import HEADER, Teams, page_text, post_csv, stored, teams

D = Decimal
__all__ = ["teams"]  # the fixture, used by name


# Uploading a CSV ------------------------------------------------------------------------


def test_a_csv_upload_on_the_team_page_stores_each_value_exactly(
    client_a: TenantClient, teams: Teams
) -> None:
    client_a.force_login(teams.admin)
    content = (
        "Date, Team ,METRIC,value\n"  # header names in any case, blanks around
        "2026-01-20,web,orders,1520\n"  # a team by name, in any case
        f"2026-01-21,{teams.web.pk},orders,1611.5\n"  # or by id
        "\n"  # a blank line is skipped
        "2026-01-20,Data,active users,0.000001\n"
    )
    upload = SimpleUploadedFile("m.csv", content.encode(), content_type="text/csv")

    response = client_a.post(f"/costs/teams/{teams.web.pk}/metrics/", {"file": upload})

    assert response.status_code == 302
    assert response["Location"] == f"/org/teams/{teams.web.pk}/"
    assert stored() == {
        ("Web", "orders", date(2026, 1, 20)): D("1520"),
        ("Web", "orders", date(2026, 1, 21)): D("1611.5"),
        ("Data", "active users", date(2026, 1, 20)): D("0.000001"),
    }
    followed = page_text(client_a.get(response["Location"]))
    assert "Stored 3 values: 3 new, 0 replaced." in followed
    entry = AuditEntry.objects.get(action="businessmetric.import")
    assert entry.actor == teams.admin
    assert entry.after is not None
    assert (entry.after["created"], entry.after["replaced"]) == (3, 0)
    assert entry.after["teams"] == ["Data", "Web"]


def test_a_new_value_for_the_same_team_metric_and_day_replaces_the_old_one(
    client_a: TenantClient, teams: Teams
) -> None:
    api = Api(client_a, teams.admin)
    first = post_csv(api, HEADER + "2026-01-20,Web,orders,2\n2026-01-21,Web,orders,4\n")
    assert first.status_code == 201, first.content
    assert first.json() == {"created": 2, "replaced": 0}

    again = post_csv(api, HEADER + "2026-01-21,Web,orders,3\n2026-01-22,Web,orders,5\n")

    assert again.status_code == 201, again.content
    assert again.json() == {"created": 1, "replaced": 1}
    assert stored() == {
        ("Web", "orders", date(2026, 1, 20)): D("2"),
        ("Web", "orders", date(2026, 1, 21)): D("3"),
        ("Web", "orders", date(2026, 1, 22)): D("5"),
    }
    assert AuditEntry.objects.filter(action="businessmetric.import").count() == 2


REFUSALS = [
    pytest.param(
        HEADER + "2026-01-20,Web,orders,1\n2026-02-30,Web,orders,2\n",
        [(3, "date", "line 3, date: '2026-02-30' is not a date as YYYY-MM-DD")],
        id="bad date",
    ),
    pytest.param(
        HEADER + "2026-01-20,Web,orders,-1\n",
        [(2, "value", "line 2, value: -1 is negative; a metric counts something, from 0")],
        id="negative value",
    ),
    pytest.param(
        HEADER + "2026-01-20,Web,orders,1\n2026-01-21,Web,orders,abc\n",
        [(3, "value", "line 3, value: 'abc' is not a number")],
        id="not a number",
    ),
    pytest.param(
        HEADER + "2026-01-20,Web,orders,NaN\n",
        [(2, "value", "line 2, value: 'NaN' is not a finite number")],
        id="NaN",
    ),
    pytest.param(
        HEADER + "2026-01-20,Web,orders,1\n2026-01-20,Nobody,orders,1\n",
        [(3, "team", "line 3, team: 'Nobody' is not a team you can see")],
        id="unknown team",
    ),
    pytest.param(
        "date,team,metric,value,region\n2026-01-20,Web,orders,1,eu\n",
        [
            (
                1,
                "header",
                "line 1, header: the header has columns the upload does not take: 'region'; "
                "it is date,team,metric,value",
            )
        ],
        id="extra column",
    ),
    pytest.param(
        "2026-01-20,Web,orders,1\n2026-01-21,Web,orders,2\n",
        [(1, "header", None)],
        id="missing header",
    ),
    pytest.param(
        HEADER + "2026-01-20,Web,orders,1\n2026-01-21,Web,orders,2\n2026-01-20,web,orders,3\n",
        [
            (
                4,
                None,
                "line 4: Web orders on 2026-01-20 is also on line 2; give each team, metric "
                "and day once",
            )
        ],
        id="duplicate row",
    ),
    pytest.param(
        HEADER + "2026-01-20,Web,orders\n",
        [(2, None, "line 2: has 3 fields; the header has 4")],
        id="missing field",
    ),
    pytest.param(b"", [(1, None, None)], id="empty file"),
]


@pytest.mark.parametrize(("content", "expected"), REFUSALS)
def test_a_refused_upload_names_the_line_and_stores_nothing(
    client_a: TenantClient, teams: Teams, content: str | bytes, expected: list[Any]
) -> None:
    api = Api(client_a, teams.admin)
    assert post_csv(api, HEADER + "2026-01-20,Web,orders,7\n").status_code == 201
    before = stored()

    response = post_csv(api, content)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_rows"
    assert body["message"].startswith("Nothing was stored")
    found = [(e["line"], e["field"], e["message"]) for e in body["errors"]]
    assert [(line, field) for line, field, _ in found] == [(n, f) for n, f, _ in expected]
    for (_, _, message), (_, _, wanted) in zip(found, expected, strict=True):
        if wanted is not None:
            assert message == wanted
    assert stored() == before  # the earlier value untouched, nothing new
    assert AuditEntry.objects.filter(action="businessmetric.import").count() == 1


def test_a_missing_header_names_the_columns_it_lacks(client_a: TenantClient, teams: Teams) -> None:
    response = post_csv(Api(client_a, teams.admin), "date,team,value\n2026-01-20,Web,1\n")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "line 1, header: the header lacks metric; it is date,team,metric,value"
    )


def test_a_file_that_is_not_utf8_names_its_line(client_a: TenantClient, teams: Teams) -> None:
    content = (HEADER + "2026-01-20,Web,orders,1\n").encode() + "2026-01-21,Wéb,orders,2\n".encode(
        "latin-1"
    )

    response = post_csv(Api(client_a, teams.admin), content)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "line": 3,
            "field": None,
            "message": "line 3: is not UTF-8 text (byte 0xe9 at character 13); "
            "save the file as UTF-8",
        }
    ]
    assert not BusinessMetric.objects.exists()


def test_every_bad_row_is_counted_and_the_first_twenty_listed(
    client_a: TenantClient, teams: Teams
) -> None:
    content = HEADER + "".join(f"2026-01-{day:02d},Web,orders,x\n" for day in range(1, 26))

    body = post_csv(Api(client_a, teams.admin), content).json()

    assert body["error_count"] == 25
    assert [e["line"] for e in body["errors"]] == list(range(2, 22))
    assert body["message"].endswith("; and 5 more.")


def test_the_upload_page_lists_each_refused_row_by_line(
    client_a: TenantClient, teams: Teams
) -> None:
    client_a.force_login(teams.lead)
    content = HEADER + "2026-01-20,Web,orders,abc\n2026-01-21,Ops,orders,1\n2026-13-01,Web,x,1\n"
    upload = SimpleUploadedFile("m.csv", content.encode(), content_type="text/csv")

    response = client_a.post(f"/costs/teams/{teams.web.pk}/metrics/", {"file": upload})

    assert response.status_code == 200
    text = page_text(response)
    assert "Nothing was stored: 3 problems." in text
    assert "line 2, value: 'abc' is not a number" in text
    assert "line 3, team: 'Ops' is not a team you can see" in text
    assert "line 4, date: '2026-13-01' is not a date as YYYY-MM-DD" in text
    assert not BusinessMetric.objects.exists()


# The API's JSON --------------------------------------------------------------------------


def test_the_api_takes_one_json_item_or_a_list(client_a: TenantClient, teams: Teams) -> None:
    api = Api(client_a, teams.admin)

    one = api.post(
        "business-metrics/",
        {"date": "2026-01-20", "team": teams.web.pk, "metric": "orders", "value": "12.5"},
    )
    many = api.post(
        "business-metrics/",
        [
            {"date": "2026-01-20", "team": "data", "metric": "jobs", "value": 3},
            {"date": "2026-01-21", "team": "Data", "metric": "jobs", "value": "4"},
        ],
    )

    assert (one.status_code, one.json()) == (201, {"created": 1, "replaced": 0})
    assert (many.status_code, many.json()) == (201, {"created": 2, "replaced": 0})
    assert stored() == {
        ("Web", "orders", date(2026, 1, 20)): D("12.5"),
        ("Data", "jobs", date(2026, 1, 20)): D("3"),
        ("Data", "jobs", date(2026, 1, 21)): D("4"),
    }
    listed = api.get("business-metrics/", {"team": teams.data.pk, "start": "2026-01-21"}).json()
    assert [(r["team_name"], r["metric"], r["date"], r["value"]) for r in listed["results"]] == [
        ("Data", "jobs", "2026-01-21", "4")
    ]


def test_a_refused_json_item_is_named_by_its_number(client_a: TenantClient, teams: Teams) -> None:
    response = Api(client_a, teams.admin).post(
        "business-metrics/",
        [
            {"date": "2026-01-20", "team": "Web", "metric": "orders", "value": "1"},
            {"date": "2026-01-20", "team": "Web", "metric": "orders/day", "value": True},
            {"date": "2026-01-21", "team": "Web", "metric": "orders", "value": "1", "x": 1},
        ],
    )

    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        "item 3, x: is not a field; items have date, team, metric and value",
    ]
    response = Api(client_a, teams.admin).post(
        "business-metrics/",
        [{"date": "2026-01-20", "team": "Web", "metric": "orders/day", "value": True}],
    )
    assert [e["message"] for e in response.json()["errors"]] == [
        "item 1, value: is not text or a number",
        "item 1, metric: 'orders/day' is not a metric name: letters, digits, _, - and spaces, "
        "at most 64",
    ]
    assert not BusinessMetric.objects.exists()


def test_a_text_csv_body_is_an_upload_too(client_a: TenantClient, teams: Teams) -> None:
    api = Api(client_a, teams.admin)
    response = client_a.post(
        "/api/v1/business-metrics/",
        HEADER + "2026-01-20,Web,orders,9\n",
        content_type="text/csv",
        HTTP_AUTHORIZATION=api.auth,
    )
    assert (response.status_code, response.json()) == (201, {"created": 1, "replaced": 0})
