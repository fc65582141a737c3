"""Forms of the allocation pages: categories and new rule versions (rules as JSON)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms

from portal.core.parsers import json_loads_bounded

RULES_HELP = (
    'A list of rules, first match wins. Regular: {"kind": "regular", "value": "Platform", '
    '"expression": {"all": [{"field": "tag", "key": "team", "op": "equals", '
    '"values": ["platform"]}]}}. Inherited: {"kind": "inherited", "inherit_from": "tag:team"} '
    'or "account_name". Fields: payer, account, ou, tag, service, region, charge_category, '
    "usage_type, category; operators: equals, one_of, starts_with, ends_with, contains, "
    'present, absent; add "case_sensitive": false to ignore case.'
)
SPLITS_HELP = (
    'A list of splits: {"source": "Shared", "method": "proportional" | "even" | "fixed", '
    '"targets": [{"value": "Platform", "percent": "60"}, {"value": "Data", "percent": "40"}]} '
    "(percentages only with fixed; they sum to 100)."
)


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    default_value = forms.CharField(
        max_length=200, required=False, help_text='Empty: unmatched costs are "Unallocated".'
    )


def _json_list(text: str, what: str) -> list[Any]:
    try:
        data = json_loads_bounded(text or "[]")
    except ValueError as exc:
        raise forms.ValidationError(f"The {what} are not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise forms.ValidationError(f"The {what} must be a JSON list.")
    return data


class VersionForm(forms.Form):
    effective_month = forms.CharField(
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text="The first month these rules apply to (YYYY-MM).",
    )
    rules = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100}), help_text=RULES_HELP
    )
    splits = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 100}), required=False, help_text=SPLITS_HELP
    )

    preview_period = forms.CharField(
        widget=forms.DateInput(attrs={"type": "month"}),
        required=False,
        help_text="For Preview: the loaded month to compare on (YYYY-MM); "
        "empty means the effective month.",
    )

    def clean_preview_period(self) -> date | None:
        text = self.cleaned_data.get("preview_period") or ""
        if not text:
            return None
        try:
            return date.fromisoformat(f"{text[:7]}-01")
        except ValueError as exc:
            raise forms.ValidationError("Give a month as YYYY-MM.") from exc

    def clean_effective_month(self) -> date:
        text = self.cleaned_data["effective_month"]
        try:
            return date.fromisoformat(f"{text[:7]}-01")
        except ValueError as exc:
            raise forms.ValidationError("Give a month as YYYY-MM.") from exc

    def clean_rules(self) -> list[Any]:
        return _json_list(self.cleaned_data["rules"], "rules")

    def clean_splits(self) -> list[Any]:
        return _json_list(self.cleaned_data.get("splits", ""), "splits")


def version_initial(data: dict[str, Any] | None, month: date) -> dict[str, Any]:
    """The form's starting values: the version in force, as editable JSON."""

    def editable(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k != "position" and v not in (None, "")}

    rules = [editable(rule) for rule in (data or {}).get("rules", [])]
    splits = [editable(split) for split in (data or {}).get("splits", [])]
    return {
        "effective_month": f"{month:%Y-%m}",
        "rules": json.dumps(rules, indent=2),
        "splits": json.dumps(splits, indent=2),
    }
