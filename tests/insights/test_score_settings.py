"""Score settings: who reads and changes them, what is refused, and the recomputation of
the stored weeks that a change queues."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing.models import TagKey, Team
from billing.services.customers import team_create
from insights import tasks
from insights.models import ScoreSettings, TeamScore
from insights.scores.settings import score_recompute_state, score_settings_update
from insights.scores.signals import COMPONENTS
from insights.services import team_cost_binding_set, team_scores_compute
from portal.audit.models import AuditEntry
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
from tests.billing.ingest_fakes import line
from tests.conftest import Api, TenantClient, make_user

D = Decimal
W02, W03 = date(2026, 1, 5), date(2026, 1, 12)
URL = "scores/settings/"
# Graviton alone counts, so the scores follow from its share whatever the other rules say.
ONLY_GRAVITON = {key: int(key == "graviton") for key in COMPONENTS}


def usage(day: str, usage_type: str, cost: str) -> dict[str, Any]:
    return line(
        charge_period_start=f"2026-01-{day}T00:00:00Z",
        charge_period_end=f"2026-01-{day}T01:00:00Z",
        service_name="Amazon EC2",
        x_usage_type=usage_type,
        billed_cost=cost,
        effective_cost=cost,
        list_cost=cost,
        tags=json.dumps({"team": "web"}),
    )


@pytest.fixture
def web(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    """A team whose 2026-W02 is 25 % on Graviton (scores 50) and W03 0 % (scores 0)."""
    TagKey.objects.create(name="team")
    rows = [
        usage("06", "BoxUsage:m5.large", "300"),
        usage("07", "BoxUsage:m6g.large", "100"),
        usage("13", "BoxUsage:m5.large", "999"),
    ]
    ingest(use_fake_files(tmp_path, monkeypatch), rows)
    category = category_with("Team", [regular("Web", cond("tag", "equals", "web", key="team"))])
    run(category, JAN)
    team = team_create(actor=None, name="Web team")
    team_cost_binding_set(actor=None, team=team, category=category, value="Web")
    score_settings_update(actor=None, weights=ONLY_GRAVITON)
    for week in (W02, W03):
        team_scores_compute(actor=None, week=week)
    return team


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.recompute_scores, "delay", lambda *args: queued.append(args))
    return queued


def api_as(client: TenantClient, role: str) -> Api:
    return Api(client, make_user(role))


def put(api: Api, body: dict[str, Any]) -> Any:
    return api.client.put(
        f"/api/v1/{URL}", body, content_type="application/json", HTTP_AUTHORIZATION=api.auth
    )


def by_key(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in answer["components"]}


# The API ------------------------------------------------------------------------------


def test_the_defaults_are_read_with_what_each_component_measures(client_a: TenantClient) -> None:
    answer = api_as(client_a, Role.FINANCE).get(URL).json()

    graviton = by_key(answer)["graviton"]
    assert (graviton["weight"], graviton["target"]) == ("2", "50")
    assert (graviton["default_weight"], graviton["default_target"]) == ("2", "50")
    assert graviton["weight_is_default"] and graviton["target_is_default"]
    assert graviton["label"] == "Graviton"
    assert "the share running on Graviton" in graviton["description"]
    assert [c["key"] for c in answer["components"]][:2] == ["commitment_coverage", "graviton"]
    assert len(answer["components"]) == 8
    assert answer["required_tag_keys"] == []
    assert answer["recompute"] == {"running": False, "weeks": 0, "weeks_done": 0}


def test_an_admin_changes_the_settings_and_a_team_lead_reads_them(
    client_a: TenantClient, sent: list[tuple[Any, ...]]
) -> None:
    admin = api_as(client_a, Role.ADMIN)
    body = {
        "weights": {"graviton": "3.5", "spot": 0},
        "targets": {"graviton": 25, "s3_storage_class": "50"},  # 50 is the default
        "required_tag_keys": [" team ", "cost-center"],
    }

    response = put(admin, body)

    assert response.status_code == 200, response.content
    changed = by_key(response.json())
    assert (changed["graviton"]["weight"], changed["graviton"]["target"]) == ("3.5", "25")
    assert changed["spot"]["weight"] == "0" and not changed["spot"]["weight_is_default"]
    assert changed["s3_storage_class"]["target_is_default"]
    assert response.json()["required_tag_keys"] == ["team", "cost-center"]
    lead = api_as(client_a, Role.TEAM_LEAD).get(URL).json()
    assert by_key(lead)["graviton"]["target"] == "25"
    assert lead["required_tag_keys"] == ["team", "cost-center"]
    saved = ScoreSettings.objects.get()
    assert saved.weights == {"graviton": "3.5", "spot": "0"}
    assert saved.targets == {"graviton": "25"}


def test_a_change_is_audited_with_before_and_after(client_a: TenantClient) -> None:
    admin_user = make_user(Role.ADMIN, "settings-admin")
    api = Api(client_a, admin_user)
    put(api, {"targets": {"spot": "30"}})

    put(api, {"targets": {"spot": "40"}, "required_tag_keys": ["team"]})

    entry = AuditEntry.objects.filter(action="scoresettings.update").order_by("pk").last()
    assert entry is not None and entry.actor == admin_user
    assert entry.before == {"weights": {}, "targets": {"spot": "30"}, "required_tag_keys": []}
    assert entry.after == {"weights": {}, "targets": {"spot": "40"}, "required_tag_keys": ["team"]}


def test_a_patch_changes_only_what_it_names_and_null_sets_the_default(
    client_a: TenantClient,
) -> None:
    admin = api_as(client_a, Role.ADMIN)
    put(admin, {"weights": {"graviton": 5}, "required_tag_keys": ["team"]})

    response = admin.patch(URL, {"targets": {"spot": "30"}})
    assert response.status_code == 200, response.content
    assert by_key(response.json())["graviton"]["weight"] == "5"
    assert response.json()["required_tag_keys"] == ["team"]

    reset = by_key(admin.patch(URL, {"weights": {"graviton": None}}).json())["graviton"]
    assert (reset["weight"], reset["weight_is_default"]) == ("2", True)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"weights": {"gpu": 1}}, "weights.gpu", "'gpu' is not a score component"),
        ({"weights": {"graviton": -1}}, "weights.graviton", "from 0 to 100"),
        ({"weights": {"graviton": "101"}}, "weights.graviton", "from 0 to 100"),
        ({"weights": {"graviton": "lots"}}, "weights.graviton", "not a decimal number"),
        ({"weights": {"graviton": True}}, "weights.graviton", "not a number"),
        ({"targets": {"spot": 0}}, "targets.spot", "above 0 and at most 100"),
        ({"targets": {"spot": "100.5"}}, "targets.spot", "above 0 and at most 100"),
        ({"targets": {"spot": "20.125"}}, "targets.spot", "more than 2 decimal places"),
        ({"weights": dict.fromkeys(COMPONENTS, 0)}, "weights", "needs a weight above 0"),
        ({"weights": ["graviton"]}, "weights", ""),
        ({"required_tag_keys": ["team", "Team"]}, "required_tag_keys", "given twice"),
        ({"required_tag_keys": ["  "]}, "required_tag_keys", "cannot be empty"),
        ({"required_tag_keys": ["k" * 129]}, "required_tag_keys", "longer than 128"),
        ({"required_tag_keys": [f"k{n}" for n in range(21)]}, "required_tag_keys", "At most 20"),
    ],
)  # fmt: skip
def test_a_refused_value_is_named_by_its_field(
    client_a: TenantClient, body: dict[str, Any], field: str, words: str
) -> None:
    response = put(api_as(client_a, Role.ADMIN), body)

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert words in response.json()["message"]
    assert not ScoreSettings.objects.exists()
    assert not AuditEntry.objects.filter(action="scoresettings.update").exists()


def test_every_refused_value_is_reported_at_once(client_a: TenantClient) -> None:
    body = {"weights": {"graviton": "x"}, "targets": {"spot": "0", "nope": 1}}

    errors = put(api_as(client_a, Role.ADMIN), body).json()["errors"]

    assert set(errors) == {"weights.graviton", "targets.spot", "targets.nope"}


@pytest.mark.parametrize("role", [Role.FINANCE, Role.TEAM_LEAD, Role.RESELLER_ADMIN])
def test_only_admins_change_the_settings(client_a: TenantClient, role: str) -> None:
    api = api_as(client_a, role)

    assert put(api, {"targets": {"spot": "30"}}).status_code == 403
    assert api.patch(URL, {"targets": {"spot": "30"}}).status_code == 403
    assert api.get(URL).status_code == 200
    assert not ScoreSettings.objects.exists()


def test_an_end_customer_does_not_read_the_settings(client_a: TenantClient) -> None:
    customer = make_user(Role.END_CUSTOMER, "cust")

    assert Api(client_a, customer).get(URL).status_code == 403
    client_a.force_login(customer)
    assert client_a.get(f"/{URL}").status_code == 403


# The recomputation ----------------------------------------------------------------------


def test_a_change_queues_the_recomputation_once_committed(
    client_a: TenantClient,
    sent: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    admin = api_as(client_a, Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        put(admin, {"targets": {"graviton": "25"}})
        assert sent == []  # not before the commit
    for callback in callbacks:
        callback()
    assert sent == [("alpha",)]

    with django_capture_on_commit_callbacks(execute=True) as unchanged:
        put(admin, {"targets": {"graviton": "25.00"}})
    assert unchanged == [] and sent == [("alpha",)]  # nothing changed, nothing queued


def test_the_task_replaces_every_stored_week_with_the_new_settings_newest_first(
    web: Team, sent: list[tuple[Any, ...]]
) -> None:
    before = {s.week: s.score for s in TeamScore.objects.filter(team=web)}
    assert before == {W02: D("50.00"), W03: D("0.00")}

    score_settings_update(actor=None, targets={"graviton": "25"})
    assert score_recompute_state().pending == 2
    computed_before = AuditEntry.objects.filter(action="teamscore.compute").count()

    assert tasks.recompute_scores.run("alpha") == 2

    after = {s.week: s for s in TeamScore.objects.filter(team=web)}
    # W02's 25 % on Graviton reaches the new target; W03 has none on Graviton.
    assert (after[W02].score, after[W03].score) == (D("100.00"), D("0.00"))
    graviton = next(c for c in after[W02].components if c["key"] == "graviton")
    assert graviton["target"] == "25"
    weeks = AuditEntry.objects.filter(action="teamscore.compute").order_by("pk")[computed_before:]
    assert [entry.after["week"] for entry in weeks if entry.after] == ["2026-W03", "2026-W02"]
    state = score_recompute_state()
    assert (state.running, state.weeks_done, state.weeks) == (False, 2, 2)

    tasks.recompute_scores.run("alpha")  # again, as after a lost worker: the same scores
    assert TeamScore.objects.filter(team=web).count() == 2
    assert TeamScore.objects.get(team=web, week=W02).score == D("100.00")


# The page -------------------------------------------------------------------------------


def page_of(client: TenantClient, user: User) -> tuple[int, str]:
    client.force_login(user)
    response = client.get(f"/{URL}")
    return response.status_code, response.content.decode()


def test_an_admin_gets_the_form_with_defaults_and_tag_suggestions(
    client_a: TenantClient, admin_a: User
) -> None:
    TagKey.objects.create(name="cost-center")

    status, text = page_of(client_a, admin_a)

    assert status == 200
    assert 'name="weight_graviton" value="2"' in text
    assert 'name="target_graviton" value="50"' in text
    assert "weight 2, target 50 %" in text  # the default beside it
    assert "Of EBS storage: the share on gp3 or io2" in text
    assert 'data-tag="cost-center"' in text
    assert "Reset to defaults" in text and "data-confirm=" in text
    assert 'href="/scores/settings/">Score settings</a>' in text  # in the nav


def test_finance_and_team_leads_read_the_settings_without_changing_them(
    client_a: TenantClient,
) -> None:
    score_settings_update(actor=None, targets={"spot": "30"}, required_tag_keys=["team"])
    for role in (Role.FINANCE, Role.TEAM_LEAD):
        user = make_user(role)
        status, text = page_of(client_a, user)

        assert status == 200, role
        assert "only admins change them" in text
        assert 'name="target_spot" value="30" inputmode="decimal" class="num" disabled' in text
        assert 'value="team"' in text
        assert "Reset to defaults" not in text and ">Save</button>" not in text
        assert 'href="/scores/settings/">Score settings</a>' not in text  # not in their nav
        assert client_a.post(f"/{URL}", {"target_spot": "40"}).status_code == 403
    assert ScoreSettings.objects.get().targets == {"spot": "30"}


def test_the_score_explanation_on_home_links_the_settings(
    web: Team, client_a: TenantClient
) -> None:
    lead = make_user(Role.TEAM_LEAD, "web-lead")
    web.leads.add(lead)
    client_a.force_login(lead)

    text = client_a.get("/").content.decode()

    assert "How is this computed?" in text
    assert 'href="/scores/settings/">Score settings: what each component measures' in text


def form(**changes: str) -> dict[str, str]:
    from insights.scores.compute import DEFAULT_TARGETS, DEFAULT_WEIGHTS

    data = {f"weight_{k}": str(v) for k, v in DEFAULT_WEIGHTS.items()}
    data |= {f"target_{k}": str(v) for k, v in DEFAULT_TARGETS.items()}
    return data | {"required_tag_keys": ""} | changes


def test_saving_the_form_says_the_scores_recompute_in_the_background(
    admin_client_a: TenantClient, sent: list[tuple[Any, ...]]
) -> None:
    response = admin_client_a.post(
        f"/{URL}", form(target_graviton="25", required_tag_keys="team, env,"), follow=True
    )

    text = response.content.decode()
    assert "Saved the score settings." in text
    assert "Scores are recomputed in the background" in text
    saved = ScoreSettings.objects.get()
    assert (saved.weights, saved.targets) == ({}, {"graviton": "25"})
    assert saved.required_tag_keys == ["team", "env"]
    assert 'value="team, env"' in text


def test_the_form_shows_each_refusal_by_its_field(admin_client_a: TenantClient) -> None:
    response = admin_client_a.post(
        f"/{URL}", form(weight_graviton="lots", target_spot="0", required_tag_keys="a, A")
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert text.count('class="num has-error"') == 2
    assert "The weight of Graviton must be a number from 0 to 100" in text
    assert "The target of Spot must be a number above 0 and at most 100" in text
    assert "The tag key &#x27;A&#x27; is given twice" in text
    assert not ScoreSettings.objects.exists()


def test_reset_sets_every_default_again(
    admin_client_a: TenantClient, sent: list[tuple[Any, ...]]
) -> None:
    score_settings_update(actor=None, weights={"spot": 0}, required_tag_keys=["team"])

    response = admin_client_a.post(f"/{URL}", {"reset": "1"}, follow=True)

    assert "The score settings are the defaults again." in response.content.decode()
    saved = ScoreSettings.objects.get()
    assert (saved.weights, saved.targets, saved.required_tag_keys) == ({}, {}, [])


def test_the_page_says_while_the_scores_are_being_recomputed(
    web: Team, client_a: TenantClient, admin_a: User, sent: list[tuple[Any, ...]]
) -> None:
    score_settings_update(actor=None, targets={"spot": "30"})

    _, text = page_of(client_a, admin_a)
    assert "Scores are being recomputed with these settings: 0 of 2 weeks done." in text

    tasks.recompute_scores.run("alpha")
    _, text = page_of(client_a, admin_a)
    assert "being recomputed" not in text
