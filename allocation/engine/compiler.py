"""Rules of a version compiled into SQL `CASE` expressions over one line item row.

The row is a line item `li` with its tag set `ts` and its account `acc` (both may be
missing). Every value is bound as a named parameter; no text of a rule is put into the
SQL. A condition on a missing value is false (each condition is wrapped in
`COALESCE(..., false)`), so `not` of it is true, as for a value that does not match.

allocate.sql evaluates these expressions once per distinct combination of the line item
columns they can read (the `GROUP BY` of its innermost query): a field reading another
line item column must add that column there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from psycopg import sql

from allocation.models import CostCategory, Rule, RuleKind, RuleSet
from allocation.rules import ACCOUNT_NAME, TAG_PREFIX
from billing.models import OrganizationalUnit

COLUMNS = {
    "payer": sql.SQL("li.billing_account_id"),
    "service": sql.SQL("li.service_name"),
    "region": sql.SQL("li.region_id"),
    "charge_category": sql.SQL("li.charge_category"),
    "usage_type": sql.SQL("li.x_usage_type"),
}
ACCOUNT_COLUMNS = (sql.SQL("li.sub_account_id"), sql.SQL("acc.name"))
FALSE = sql.SQL("false")


class RuleCompiler:
    """Builds SQL for one period; `params` collects the values the SQL names."""

    def __init__(self, period: date) -> None:
        self.period = period
        self.params: dict[str, Any] = {}
        self._versions: dict[str, RuleSet | None] = {}
        self._categories: dict[str, CostCategory | None] = {}
        self._rules: dict[int, list[Rule]] = {}
        self._units: list[OrganizationalUnit] | None = None

    def bind(self, value: Any) -> sql.Composable:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    # The CASE expressions -------------------------------------------------------------

    def value_case(self, category: CostCategory, ruleset: RuleSet | None) -> sql.Composable:
        """The category's value of the row: the first matching rule's, else the fallback."""
        whens = [
            sql.SQL("WHEN {} THEN {}").format(self.rule_condition(rule), self.rule_value(rule))
            for rule in self.rules(ruleset)
        ]
        fallback = sql.SQL("{}::text").format(self.bind(category.fallback_value))
        return _case(whens, fallback)

    def rule_case(self, ruleset: RuleSet | None) -> sql.Composable:
        """The id of the first matching rule, NULL when none matches."""
        whens = [
            sql.SQL("WHEN {} THEN {}::bigint").format(self.rule_condition(rule), self.bind(rule.pk))
            for rule in self.rules(ruleset)
        ]
        return _case(whens, sql.SQL("NULL::bigint"))

    def rules(self, ruleset: RuleSet | None) -> list[Rule]:
        """The version's rules in order, read once per compiler (both CASEs use them)."""
        if ruleset is None:
            return []
        if ruleset.pk not in self._rules:
            self._rules[ruleset.pk] = sorted(ruleset.rules.all(), key=lambda r: r.position)
        return self._rules[ruleset.pk]

    def rule_condition(self, rule: Rule) -> sql.Composable:
        if rule.kind == RuleKind.INHERITED:
            return sql.SQL("({} IS NOT NULL)").format(self._inherited(rule))
        return self.expression(rule.expression or {"all": []})

    def rule_value(self, rule: Rule) -> sql.Composable:
        if rule.kind == RuleKind.INHERITED:
            return self._inherited(rule)
        return sql.SQL("{}::text").format(self.bind(rule.value))

    def _inherited(self, rule: Rule) -> sql.Composable:
        """The tag's or account's name as the value; NULL (no match) when missing or empty."""
        if rule.inherit_from == ACCOUNT_NAME:
            return sql.SQL("COALESCE(NULLIF(acc.name, ''), NULLIF(li.sub_account_name, ''))")
        key = rule.inherit_from.removeprefix(TAG_PREFIX)
        return sql.SQL("NULLIF(ts.tags ->> {}, '')").format(self.bind(key))

    # Expressions ----------------------------------------------------------------------

    def expression(self, node: dict[str, Any]) -> sql.Composable:
        if "not" in node:
            return sql.SQL("(NOT {})").format(self.expression(node["not"]))
        if "all" in node or "any" in node:
            name = "all" if "all" in node else "any"
            parts = [self.expression(child) for child in node[name]]
            if not parts:
                return sql.SQL("true") if name == "all" else FALSE
            joiner = sql.SQL(" AND " if name == "all" else " OR ")
            return sql.SQL("({})").format(joiner.join(parts))
        return sql.SQL("COALESCE({}, false)").format(self.condition(node))

    def condition(self, node: dict[str, Any]) -> sql.Composable:
        field, op = node["field"], node["op"]
        if field == "tag":
            return self._tag(node)
        if field == "ou":
            return self._ou(node)
        if field == "account":
            subjects: tuple[sql.Composable, ...] = ACCOUNT_COLUMNS
        elif field == "category":
            subjects = (self.category_value(node["category"]),)
        else:
            subjects = (COLUMNS[field],)
        if op == "present":
            return sql.SQL("({} IS NOT NULL)").format(subjects[0])
        if op == "absent":
            return sql.SQL("({} IS NULL)").format(subjects[0])
        matches = [self.match(subject, node) for subject in subjects]
        return sql.SQL("({})").format(sql.SQL(" OR ").join(matches))

    def match(self, subject: sql.Composable, node: dict[str, Any]) -> sql.Composable:
        """`subject` compared with the node's values by its op."""
        op, values = node["op"], node["values"]
        fold = not node.get("case_sensitive", True)
        left = sql.SQL("lower({})").format(subject) if fold else subject
        if op in ("equals", "one_of"):
            if fold:
                array = sql.SQL("ARRAY(SELECT lower(v) FROM unnest({}::text[]) AS v)")
                return sql.SQL("({} = ANY({}))").format(left, array.format(self.bind(values)))
            return sql.SQL("({} = ANY({}::text[]))").format(left, self.bind(values))
        template = {
            "starts_with": "(left({s}, char_length({v})) = {v})",
            "ends_with": "(right({s}, char_length({v})) = {v})",
            "contains": "(strpos({s}, {v}) > 0)",
        }[op]
        parts = []
        for value in values:
            bound = sql.SQL("{}::text").format(self.bind(value))
            right = sql.SQL("lower({})").format(bound) if fold else bound
            parts.append(sql.SQL(template).format(s=left, v=right))
        return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))

    def _tag(self, node: dict[str, Any]) -> sql.Composable:
        key = self.bind(node["key"])
        if node["op"] == "present":
            return sql.SQL("(ts.tags ? {})").format(key)
        if node["op"] == "absent":
            return sql.SQL("(NOT COALESCE(ts.tags ? {}, false))").format(key)
        return self.match(sql.SQL("(ts.tags ->> {})").format(key), node)

    def _ou(self, node: dict[str, Any]) -> sql.Composable:
        """The account sits in one of the named OUs (by id or name) or below one of them."""
        op = node["op"]
        if op == "present":
            return sql.SQL("(acc.ou_id IS NOT NULL)")
        if op == "absent":
            return sql.SQL("(acc.ou_id IS NULL)")
        if self._units is None:
            self._units = list(OrganizationalUnit.objects.all())
        named = {unit.pk for unit in self._units if _ou_matches(unit, node)}
        ids = {pk for pk in _descendants(named, self._units)}
        return sql.SQL("(acc.ou_id = ANY({}::bigint[]))").format(self.bind(sorted(ids)))

    # Other categories -----------------------------------------------------------------

    def category_value(self, name: str) -> sql.Composable:
        """Another category's CASE for the same row (the rules service refuses cycles)."""
        if name not in self._categories:
            self._categories[name] = CostCategory.objects.filter(name=name).first()
        category = self._categories[name]
        if category is None:
            return sql.SQL("NULL::text")
        if name not in self._versions:
            self._versions[name] = category.version_for(self.period)
        return sql.SQL("({})").format(self.value_case(category, self._versions[name]))


def _case(whens: Sequence[sql.Composable], fallback: sql.Composable) -> sql.Composable:
    if not whens:
        return fallback
    return sql.SQL("CASE {} ELSE {} END").format(sql.SQL(" ").join(whens), fallback)


def _ou_matches(unit: OrganizationalUnit, node: dict[str, Any]) -> bool:
    fold = not node.get("case_sensitive", True)
    texts = [str(unit.pk), unit.name.lower() if fold else unit.name]
    values = [v.lower() if fold else v for v in node["values"]]
    tests = {
        "equals": lambda text, value: text == value,
        "one_of": lambda text, value: text == value,
        "starts_with": lambda text, value: text.startswith(value),
        "ends_with": lambda text, value: text.endswith(value),
        "contains": lambda text, value: value in text,
    }[node["op"]]
    return any(tests(text, value) for text in texts for value in values)


def _descendants(ids: set[int], units: list[OrganizationalUnit]) -> set[int]:
    """`ids` and the ids of every OU below them."""
    found, frontier = set(ids), set(ids)
    while frontier:
        frontier = {u.pk for u in units if u.parent_id in frontier and u.pk not in found}
        found |= frontier
    return found
