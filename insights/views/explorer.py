"""The cost explorer page (`/costs/`): its form from the query string, its data from the API.

The page's query string holds the whole state, so a view is bookmarkable; the script
(static/insights/explorer.js) asks the cost API with the same parameters and draws the
answer. The server renders the form's state and the user's options, nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from billing.models import BillingView
from insights.query import (
    DEFAULT_LIMIT,
    DIMENSION_LABELS,
    GRANULARITIES,
    MAX_GROUP_BY,
    MAX_LIMIT,
    METRIC_LABELS,
    CostQuery,
    add_months,
    dimension_label,
    month_to_date,
    parse_cost_query,
)
from insights.selectors import explorer_options
from portal.core.errors import ApplicationError
from portal.users.roles import Role

PRESETS = (
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("last_3_months", "Last 3 months"),
    ("last_6_months", "Last 6 months"),
    ("last_12_months", "Last 12 months"),
    ("custom", "Custom"),
)
# Periods of several months are read month by month unless the query string says otherwise.
MONTHLY_PRESETS = frozenset({"last_3_months", "last_6_months", "last_12_months"})
DEFAULT_GROUP_BY = ("service",)


def preset_periods(today: date) -> dict[str, tuple[date, date]]:
    """Each preset's start and exclusive end: this month to date, else whole months."""
    first, tomorrow = month_to_date(today)
    periods = {"this_month": (first, tomorrow), "last_month": (add_months(first, -1), first)}
    for months in (3, 6, 12):
        periods[f"last_{months}_months"] = (add_months(first, -months), first)
    return periods


def filter_text(dimension: str, value: str) -> str:
    """A filter as the API reads it; `tag:key=value` when a colon would be ambiguous."""
    if dimension.startswith(("tag:", "category:")):
        key = dimension.partition(":")[2]
        if any(mark in key + value for mark in ":="):
            return f"{dimension}={value}"
    return f"{dimension}:{value}"


def _options_json(options: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """`explorer_options` pairs as the options API writes them: key and label."""

    def pairs(items: Any) -> list[dict[str, str]]:
        out = []
        for item in items:
            key, label = (item["key"], item["label"]) if isinstance(item, dict) else item
            out.append({"key": str(key), "label": str(label)})
        return out

    return {"metrics": pairs(options["metrics"]), "dimensions": pairs(options["dimensions"])}


class ExplorerState:
    """The form's state from a query string; `query` is None when it does not parse."""

    def __init__(self, params: QueryDict, *, today: date, metrics: list[str]) -> None:
        presets = preset_periods(today)
        start, end = _given_period(params)
        period = params.get("period", "")
        if period in presets and not (start or end):
            start, end = presets[period]
        elif start or end:
            match = [key for key, span in presets.items() if span == (start, end)]
            period = match[0] if match else "custom"
        else:
            period = "this_month"
            start, end = presets[period]
        self.period = period
        self.error: ApplicationError | None = None
        wanted = QueryDict(mutable=True)
        wanted.setlist("start", [start.isoformat()] if start else [])
        wanted.setlist("end", [end.isoformat()] if end else [])
        granularity = params.get("granularity") or (
            "monthly" if period in MONTHLY_PRESETS else "daily"
        )
        wanted["granularity"] = granularity
        # An end customer's only metric is resale: a page without `metric` asks for it.
        wanted["metric"] = params.get("metric") or (metrics[0] if metrics else "billed_cost")
        group_by: list[str] = (
            [str(value) for value in params.getlist("group_by")]
            if "group_by" in params
            else [*DEFAULT_GROUP_BY]
        )
        wanted.setlist("group_by", group_by)
        for name in ("filter", "exclude", "limit"):
            wanted.setlist(name, params.getlist(name))
        self.query: CostQuery | None
        try:
            self.query = parse_cost_query(dict(wanted.lists()), today=today)
        except ApplicationError as error:
            self.error = error
            self.query = None
        self.granularity = granularity
        self.metric = str(wanted["metric"])
        self.start = self.query.start if self.query else start
        self.end = self.query.end if self.query else end
        self.group_by = (
            list(self.query.group_by)
            if self.query
            else [part for value in group_by for part in value.split(",") if part][:MAX_GROUP_BY]
        )
        self.limit = self.query.limit if self.query else DEFAULT_LIMIT

    @property
    def filters(self) -> list[dict[str, str]]:
        if self.query is None:
            return []
        rows: list[dict[str, str]] = []
        for mode, items in (("filter", self.query.filters), ("exclude", self.query.excludes)):
            for dimension, values in items:
                rows.extend(
                    {
                        "mode": mode,
                        "dimension": dimension,
                        "label": dimension_label(dimension),
                        "value": value,
                        "text": filter_text(dimension, value),
                    }
                    for value in values
                )
        return rows

    def api_params(self, view: BillingView | None) -> list[tuple[str, str]]:
        """The cost API's parameters for this state: the page's CSV link and first fetch."""
        params = [
            ("start", self.start.isoformat() if self.start else ""),
            ("end", self.end.isoformat() if self.end else ""),
            ("granularity", self.granularity),
            ("metric", self.metric),
        ]
        if self.group_by:
            params.append(("group_by", ",".join(self.group_by)))
        params.extend((row["mode"], row["text"]) for row in self.filters)
        params.append(("limit", str(self.limit)))
        if view is not None:
            params.append(("view", str(view.pk)))
        return [(name, value) for name, value in params if value]

    def as_json(self, view: BillingView | None) -> dict[str, Any]:
        return {
            "period": self.period,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "granularity": self.granularity,
            "metric": self.metric,
            "group_by": self.group_by,
            "filters": [
                {"mode": row["mode"], "dimension": row["dimension"], "value": row["value"]}
                for row in self.filters
            ],
            "limit": self.limit,
            "view": view.pk if view is not None else None,
        }


def _group_by_slots(group_by: list[str], options: dict[str, Any]) -> list[dict[str, str]]:
    """The group-by selects' choices; one the user may not use stays, so the API says why."""
    offered = {item["key"] for item in options["dimensions"]}
    slots = []
    for index in range(MAX_GROUP_BY):
        key = group_by[index] if index < len(group_by) else ""
        extra = key and key not in offered
        slots.append({"key": key, "extra_label": dimension_label(key) if extra else ""})
    return slots


def _given_period(params: QueryDict) -> tuple[date | None, date | None]:
    """Start and exclusive end as given: `end`, or `to` (the form's inclusive last day)."""

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(params.get(name, "").strip())
        except ValueError:
            return None

    start, end, last = day("start"), day("end"), day("to")
    if end is None and last is not None:
        end = last + timedelta(days=1)
    return start, end


class CostExplorerView(LoginRequiredMixin, TemplateView):
    """Every role may open it: the engine answers each with the costs it may see."""

    template_name = "insights/explorer.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        params = self.request.GET
        view = self._billing_view(params.get("view"))
        given_options = explorer_options(user=user, view=view)
        options = _options_json(given_options)
        today = timezone.localdate()
        state = ExplorerState(
            params, today=today, metrics=[item["key"] for item in options["metrics"]]
        )
        api_params = state.api_params(view)
        presets = preset_periods(today)
        context.update(
            view=view,
            state=state,
            locked=[
                {"label": dimension_label(item["dimension"]), "names": item["values"]}
                for item in given_options.get("locked_filters", [])
            ],
            options=options,
            presets=PRESETS,
            granularities=[(key, key.capitalize()) for key in GRANULARITIES],
            group_by_slots=_group_by_slots(state.group_by, options),
            # A metric the user may not use stays chosen, so the API's refusal says why.
            metric_extra_label=""
            if state.metric in {item["key"] for item in options["metrics"]}
            else METRIC_LABELS.get(state.metric, state.metric),
            max_limit=MAX_LIMIT,
            last_day=state.end - timedelta(days=1) if state.end else None,
            csv_url=f"{reverse('cost-csv')}?{urlencode(api_params)}",
            can_ingest=getattr(user, "role", None) == Role.ADMIN,  # who may upload bills
            explorer_config={
                "state": state.as_json(view),
                "options": options,
                # Locked dimensions may be ones the user cannot pick (an end customer's).
                "dimension_labels": DIMENSION_LABELS,
                "presets": {
                    key: [start.isoformat(), end.isoformat()]
                    for key, (start, end) in presets.items()
                },
                "monthly_presets": sorted(MONTHLY_PRESETS),
                "urls": {
                    "page": reverse("cost-explorer"),
                    "api": reverse("cost-api"),
                    "csv": reverse("cost-csv"),
                    "values": reverse("cost-values"),
                    "ingest": reverse("ingest-list"),
                },
                "can_ingest": getattr(user, "role", None) == Role.ADMIN,
                "view": {"id": view.pk, "name": view.name} if view is not None else None,
                "error": state.error.as_dict() if state.error else None,
            },
        )
        return context

    def _billing_view(self, given: str | None) -> BillingView | None:
        if not given:
            return None
        if not given.isdigit():
            raise Http404("No such billing view.")
        views = BillingView.objects.visible_to(self.request.user)
        return get_object_or_404(views, pk=int(given))
