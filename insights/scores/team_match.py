"""Which team a recommendation of an outside export belongs to.

In order:
1. the rules in force of the category the teams are bound to, applied to what the export
   tells of the resource (its tags, account and region): the first rule that surely matches
   gives a value, the team bound to it is the owner. Conditions on what the export does not
   tell (service, usage type, payer, OU, other categories) leave a rule undecided, and an
   undecided rule is passed over;
2. a tag whose value is a team's bound value or the team's name (case-insensitive);
3. the account's owner team: the team with the largest cost of its own (not shared to it
   by a split) in the account in the latest allocation runs of the last three months that
   have one. Teams and accounts have no other link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Sum

from allocation.models import AllocationResult, AllocationRun, RuleKind, RunStatus
from allocation.selectors import ruleset_for
from billing.models import Account, TagKey, Team
from insights.models import TeamCostBinding
from insights.scores.hub_export import HubRow

OWNER_MONTHS = 3
TAG_PREFIX = "tag:"
ACCOUNT_NAME = "account_name"


@dataclass(frozen=True)
class Match:
    team: Team
    how: str  # "rule", "tag" or "account"


@dataclass(frozen=True)
class _Facts:
    tags: dict[str, str] | None  # None: unknown
    account_id: str
    account_name: str | None
    region: str


class TeamMatcher:
    """Reads the teams, their category's rules and the accounts' owners once."""

    def __init__(self, *, today: date, account_ids: Iterable[str] = ()) -> None:
        self.bindings = list(TeamCostBinding.objects.select_related("team", "category"))
        self.by_value = {b.value: b.team for b in self.bindings}
        self.by_text: dict[str, Team] = {t.name.lower(): t for t in Team.objects.all()}
        self.by_text.update({b.value.lower(): b.team for b in self.bindings})
        self.keys = _key_names()
        wanted = set(account_ids)
        self.account_names = dict(
            Account.objects.filter(account_id__in=wanted).values_list("account_id", "name")
        )
        category = self.bindings[0].category if self.bindings else None
        ruleset = ruleset_for(category=category, period=today) if category else None
        self.rules = list(ruleset.rules.all()) if ruleset else []
        self.periods: list[date] = []
        self.owners: dict[str, Team] = self._owners(category, wanted) if category else {}

    def match(self, row: HubRow) -> Match | None:
        facts = self._facts(row)
        value = self._rule_value(facts)
        if value in self.by_value:
            return Match(self.by_value[value], "rule")
        for _key, tag_value in sorted((facts.tags or {}).items(), key=_team_key_first):
            team = self.by_text.get(tag_value.strip().lower())
            if team is not None:
                return Match(team, "tag")
        owner = self.owners.get(row.account_id)
        return Match(owner, "account") if owner else None

    def why_not(self, row: HubRow) -> str:
        """Why `row` has no team, in words."""
        tags = self._facts(row).tags
        if tags is None:
            said = "the export gives no tags"
        elif not tags:
            said = "the resource has no tags"
        else:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))
            said = f"no tag names a team ({shown})"
        if not row.account_id:
            return f"{said}, and the row names no account"
        if not self.bindings:
            return f"{said}, and no team is bound to a cost category value to own accounts"
        months = _months(self.periods)
        return f"{said}, and no team has cost in account {row.account_id} in {months}"

    # Rules ------------------------------------------------------------------------------

    def _facts(self, row: HubRow) -> _Facts:
        tags = None
        if row.tags is not None:
            tags = {self.keys.get(k, self.keys.get(k.lower(), k)): v for k, v in row.tags.items()}
        name = self.account_names.get(row.account_id) or row.account_name or None
        return _Facts(tags, row.account_id, name, row.region)

    def _rule_value(self, facts: _Facts) -> str | None:
        """The value of the first rule that surely matches; undecided rules are passed."""
        for rule in self.rules:
            if rule.kind == RuleKind.INHERITED:
                inherited = _inherited(rule.inherit_from, facts)
                if inherited:
                    return inherited
                continue
            if _holds(rule.expression or {"all": []}, facts) is True:
                return rule.value
        return None

    def _owners(self, category: Any, accounts: set[str]) -> dict[str, Team]:
        latest: dict[date, int] = {}
        runs = AllocationRun.objects.filter(category=category, status=RunStatus.SUCCEEDED)
        for period, pk in runs.order_by("-period", "-pk").values_list("period", "pk"):
            if period not in latest and len(latest) == OWNER_MONTHS:
                break
            latest.setdefault(period, pk)
        self.periods = sorted(latest)
        # Index allocresult_run_value.
        costs = (
            AllocationResult.objects.filter(
                run_id__in=list(latest.values()),
                value__in=list(self.by_value),
                sub_account_id__in=accounts,
                split_from="",
            )
            .values_list("sub_account_id", "value")
            .annotate(cost=Sum("effective_cost", output_field=DecimalField()))
        )
        largest: dict[str, tuple[Decimal, str]] = {}
        for account, value, cost in costs:
            if cost > 0 and (account not in largest or (cost, value) > largest[account]):
                largest[account] = (cost, value)
        return {account: self.by_value[value] for account, (_, value) in largest.items()}


def _key_names() -> dict[str, str]:
    """Tag key spellings (aliases, and the lowercased name) -> the key as the bill reads it."""
    names: dict[str, str] = {}
    for name, aliases in TagKey.objects.values_list("name", "aliases"):
        names[name.lower()] = name
        names.update({alias: name for alias in aliases or []})
        names[name] = name
    return names


def _team_key_first(item: tuple[str, str]) -> tuple[bool, str]:
    return (item[0].lower() != "team", item[0])


def _inherited(source: str, facts: _Facts) -> str | None:
    if source == ACCOUNT_NAME:
        return facts.account_name
    if source.startswith(TAG_PREFIX) and facts.tags is not None:
        return facts.tags.get(source.removeprefix(TAG_PREFIX)) or None
    return None


def _holds(node: dict[str, Any], facts: _Facts) -> bool | None:
    """Whether the expression matches: True, False, or None when the export cannot tell."""
    if "not" in node:
        inner = _holds(node["not"], facts)
        return None if inner is None else not inner
    if "all" in node or "any" in node:
        found = [_holds(child, facts) for child in node.get("all") or node.get("any") or []]
        if "all" in node:
            return False if False in found else (None if None in found else True)
        return True if True in found else (None if None in found else False)
    return _condition(node, facts)


def _condition(node: dict[str, Any], facts: _Facts) -> bool | None:
    field, op = node["field"], node["op"]
    if field == "tag":
        if facts.tags is None:
            return None
        key = node["key"]
        if op in ("present", "absent"):
            return (key in facts.tags) == (op == "present")
        subjects = [facts.tags.get(key)]
    elif field == "account":
        if op in ("present", "absent"):
            return bool(facts.account_id) == (op == "present")
        subjects = [facts.account_id or None, facts.account_name]
    elif field == "region" and facts.region:
        if op in ("present", "absent"):
            return op == "present"
        subjects = [facts.region]
    else:
        return None
    return any(_compare(subject, node) for subject in subjects if subject is not None)


def _compare(subject: str, node: dict[str, Any]) -> bool:
    fold = not node.get("case_sensitive", True)
    text = subject.lower() if fold else subject
    values = [v.lower() if fold else v for v in node["values"]]
    op = node["op"]
    if op in ("equals", "one_of"):
        return text in values
    if op == "starts_with":
        return any(text.startswith(v) for v in values)
    if op == "ends_with":
        return any(text.endswith(v) for v in values)
    return any(v in text for v in values)


def _months(periods: list[date]) -> str:
    if not periods:
        return "any allocation run (none has succeeded yet)"
    if len(periods) == 1:
        return f"the allocation of {periods[0]:%Y-%m}"
    return f"the allocations of {periods[0]:%Y-%m} to {periods[-1]:%Y-%m}"
