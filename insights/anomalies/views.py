"""The anomaly pages: the list (/anomalies/), one anomaly with its chart and root causes,
feedback on it, and the monitor's settings (/anomalies/monitor/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from billing.models import CostCube
from insights.anomalies.feedback import (
    MONITOR_READERS,
    anomaly_feedback_set,
    may_change_monitor,
    may_give_feedback,
    monitor_get,
    monitor_update,
)
from insights.anomalies.forms import AnomalyFilterForm, MonitorForm
from insights.anomalies.serializers import (
    Day,
    RootCause,
    anomalies_filtered,
    daily_of,
    root_causes_of,
)
from insights.models import Anomaly
from insights.models.anomalies import AnomalyQuerySet
from insights.views.explorer import filter_text
from invoices.models import BillingUnit
from portal.core.errors import ApplicationError
from portal.core.views import ScopedViewMixin

SPARK_WIDTH, SPARK_HEIGHT = 120, 28
CAUSE_BAR_PX, CAUSE_AXIS_PX = 28, 44  # a root cause chart's height: per bar, and its axis
# Which root cause names an anomaly best: of any series, its service; of a service's, what
# in it grew.
TOP_CAUSE_ORDER = {
    False: ("service", "usage_type", "account", "region"),
    True: ("usage_type", "account", "region"),
}
FEEDBACK_DONE = {
    Anomaly.Feedback.EXPECTED: "Marked as expected.",
    Anomaly.Feedback.UNEXPECTED: "Marked as not expected.",
    Anomaly.Feedback.OPEN: "Marked as not reviewed again.",
}


class AnomalyReadersMixin(LoginRequiredMixin):
    """Only roles that may read anomalies at all open these pages (end customers not)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and getattr(user, "role", None) not in AnomalyQuerySet.readable_by:
            raise PermissionDenied("Your role does not see cost anomalies.")
        return super().dispatch(request, *args, **kwargs)


@dataclass(frozen=True)
class SparkBar:
    x: int
    y: int
    width: int
    height: int
    anomalous: bool


@dataclass(frozen=True)
class AnomalyRow:
    anomaly: Anomaly
    top_cause: RootCause | None
    ongoing: bool
    days: int
    bars: list[SparkBar]


def latest_cost_day() -> date | None:
    """The last day with loaded cost (index costcube_grain_day): an anomaly that ends on it
    is still going on."""
    return CostCube.objects.filter(grain="day_service").aggregate(last=Max("day"))["last"]


def spark_bars(anomaly: Anomaly, days: list[Day]) -> list[SparkBar]:
    """The days' cost as little bars, the anomalous ones marked (drawing only)."""
    if not days:
        return []
    top = max((d.actual for d in days), default=Decimal(0)) or Decimal(1)
    shown = days[-SPARK_WIDTH:]
    step = max(SPARK_WIDTH // len(shown), 1)
    bars = []
    for index, day in enumerate(shown):
        height = max(int(max(day.actual, Decimal(0)) / top * SPARK_HEIGHT), 1)
        bars.append(
            SparkBar(
                x=index * step,
                y=SPARK_HEIGHT - height,
                width=max(step - 1, 1),
                height=height,
                anomalous=anomaly.start_date <= day.date <= anomaly.end_date,
            )
        )
    return bars


def top_cause(anomaly: Anomaly, causes: list[RootCause]) -> RootCause | None:
    """The largest contributor of the most telling dimension: each dimension shares out the
    whole impact, so one region (or the series itself) would often take all of it."""
    preferred = TOP_CAUSE_ORDER[anomaly.dimension == "service"]
    for dimension in preferred:
        found = [c for c in causes if c.dimension == dimension]
        if found:
            return found[0]
    return causes[0] if causes else None


def anomaly_row(anomaly: Anomaly, latest: date | None) -> AnomalyRow:
    return AnomalyRow(
        anomaly=anomaly,
        top_cause=top_cause(anomaly, root_causes_of(anomaly)),
        ongoing=latest is not None and anomaly.end_date >= latest,
        days=(anomaly.end_date - anomaly.start_date).days + 1,
        bars=spark_bars(anomaly, daily_of(anomaly)),
    )


def explorer_url(anomaly: Anomaly, days: list[Day], metric: str) -> str:
    """The cost explorer on the anomaly's series and days, by service (or account)."""
    first = days[0].date if days else anomaly.start_date - timedelta(days=14)
    last = days[-1].date if days else anomaly.end_date
    params: list[tuple[str, str]] = [
        ("start", first.isoformat()),
        ("to", last.isoformat()),
        ("granularity", "daily"),
        ("metric", metric),
        ("group_by", "account" if anomaly.dimension == "service" else "service"),
    ]
    series = _series_filter(anomaly)
    if series:
        params.append(("filter", series))
    return f"{reverse('cost-explorer')}?{urlencode(params)}"


def _series_filter(anomaly: Anomaly) -> str | None:
    if anomaly.dimension == "team":
        return filter_text("team", anomaly.team.name if anomaly.team else anomaly.key)
    if anomaly.dimension in ("account", "service"):
        return filter_text(anomaly.dimension, anomaly.key)
    unit = (
        BillingUnit.objects.filter(name__in=[anomaly.key, anomaly.label])
        .select_related("category")
        .first()
    )
    return filter_text(f"category:{unit.category.name}", unit.value) if unit else None


class AnomalyListView(AnomalyReadersMixin, ScopedViewMixin, ListView[Anomaly]):
    model = Anomaly
    template_name = "insights/anomalies/list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Anomaly]:
        self.filter_form = AnomalyFilterForm(self.request.GET or None)
        anomalies = super().get_queryset().select_related("team", "feedback_by")
        self.unfiltered = anomalies
        return anomalies_filtered(anomalies, **self.filter_form.filters()).order_by(
            "-start_date", "-impact", "-pk"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        latest = latest_cost_day()
        filtered = bool(self.filter_form.filters())
        context.update(
            rows=[anomaly_row(anomaly, latest) for anomaly in context["object_list"]],
            filter_form=self.filter_form,
            filtered=filtered,
            has_any=filtered and self.unfiltered.exists(),
            monitor=monitor_get(),
            sees_monitor=getattr(self.request.user, "role", None) in MONITOR_READERS,
            spark_width=SPARK_WIDTH,
            spark_height=SPARK_HEIGHT,
        )
        return context


class AnomalyDetailView(AnomalyReadersMixin, ScopedViewMixin, DetailView[Anomaly]):
    model = Anomaly
    template_name = "insights/anomalies/detail.html"
    context_object_name = "anomaly"

    def get_queryset(self) -> QuerySet[Anomaly]:
        return super().get_queryset().select_related("team", "feedback_by", "monitor")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        anomaly: Anomaly = self.object
        days = daily_of(anomaly)
        causes = root_causes_of(anomaly)
        groups = [
            (dimension, list(items))
            for dimension, items in groupby(causes, key=lambda c: c.dimension)
        ]
        latest = latest_cost_day()
        context.update(
            row=anomaly_row(anomaly, latest),
            days=days,
            causes=causes,
            cause_groups=[
                {
                    "label": items[0].dimension_label,
                    "height": CAUSE_BAR_PX * len(items) + CAUSE_AXIS_PX,
                }
                for _, items in groups
            ],
            chart=_chart_config(anomaly, days, groups),
            explorer_url=explorer_url(anomaly, days, anomaly.monitor.metric),
            can_give_feedback=may_give_feedback(self.request.user, anomaly),
            feedback_choices=Anomaly.Feedback,
        )
        return context


def _chart_config(
    anomaly: Anomaly, days: list[Day], groups: list[tuple[str, list[RootCause]]]
) -> dict[str, Any]:
    """What the page's script draws; amounts as exact text, made Numbers only to draw."""
    return {
        "currency": anomaly.currency,
        "start": anomaly.start_date.isoformat(),
        "end": anomaly.end_date.isoformat(),
        "days": [
            {
                "date": d.date.isoformat(),
                "expected": None if d.expected is None else format(d.expected, "f"),
                "actual": format(d.actual, "f"),
            }
            for d in days
        ],
        "causes": [
            {
                "dimension": items[0].dimension_label,
                "items": [
                    {
                        "label": c.label,
                        "share": None if c.share is None else format(c.share, "f"),
                        "impact": format(c.impact, "f"),
                    }
                    for c in items
                ],
            }
            for _, items in groups
        ],
    }


class AnomalyFeedbackView(AnomalyReadersMixin, View):
    """POST only: mark the anomaly (`feedback`), then show it again."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        anomaly = get_object_or_404(Anomaly.objects.visible_to(request.user), pk=pk)
        try:
            anomaly_feedback_set(
                actor=request.user, anomaly=anomaly, feedback=request.POST.get("feedback", "")
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, FEEDBACK_DONE[Anomaly.Feedback(request.POST["feedback"])])
        return redirect("anomaly-detail", pk=anomaly.pk)


class MonitorView(LoginRequiredMixin, FormView[MonitorForm]):
    """The monitor's settings: admins change them; finance and reseller admins read them."""

    form_class = MonitorForm
    template_name = "insights/anomalies/monitor.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and getattr(user, "role", None) not in MONITOR_READERS:
            raise PermissionDenied("Your role does not see the anomaly monitor's settings.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def editable(self) -> bool:
        return may_change_monitor(self.request.user)

    def get_form_kwargs(self) -> dict[str, Any]:
        self.monitor = monitor_get()
        return {**super().get_form_kwargs(), "monitor": self.monitor, "editable": self.editable}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        anomalies = Anomaly.objects.filter(monitor=self.monitor)
        context.update(
            monitor=self.monitor,
            editable=self.editable,
            recorded=anomalies.count(),
            open_count=anomalies.filter(feedback=Anomaly.Feedback.OPEN).count(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.editable:
            raise PermissionDenied("Only admins change the anomaly monitor.")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: MonitorForm) -> HttpResponse:
        try:
            monitor_update(actor=self.request.user, monitor=self.monitor, **form.changes())
        except ApplicationError as error:
            form.show(error)
            return self.form_invalid(form)
        messages.success(self.request, "Saved the anomaly monitor's settings.")
        return redirect("anomaly-monitor")
