"""The anomaly pages' forms: the list's filters and the monitor's settings. Values are
checked by the services, so the pages and the API refuse alike."""

from __future__ import annotations

from typing import Any

from django import forms

from insights.anomalies.feedback import BASELINE_DAYS
from insights.models import Anomaly, AnomalyMonitor
from insights.models.anomalies import ANOMALY_DIMENSIONS
from portal.core.errors import ApplicationError

DIMENSION_CHOICES = [
    ("", "All"),
    *((d, d.replace("_", " ").capitalize()) for d in ANOMALY_DIMENSIONS),
]
FEEDBACK_CHOICES = [("", "Any"), *Anomaly.Feedback.choices]


class AnomalyFilterForm(forms.Form):
    dimension = forms.ChoiceField(choices=DIMENSION_CHOICES, required=False, label="What")
    feedback = forms.ChoiceField(choices=FEEDBACK_CHOICES, required=False, label="Status")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters given; a value that does not read is no filter."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return {
                name: value
                for name, value in self.cleaned_data.items()
                if name not in self.errors and value
            }
        return {name: value for name, value in self.cleaned_data.items() if value}


def _number(value: Any) -> str:
    return format(value.normalize(), "f") if value is not None else ""


class MonitorForm(forms.Form):
    sensitivity = forms.CharField(
        label="Sensitivity",
        help_text="How many robust deviations (scaled MAD) above the expected cost make a day "
        "anomalous. Lower finds more; 4 is a good start.",
    )
    baseline_days = forms.CharField(
        label="Baseline days",
        help_text=f"Days of history the expected cost reads ({BASELINE_DAYS[0]} to "
        f"{BASELINE_DAYS[1]}); from 28 it follows the day of the week.",
    )
    notify_min_impact = forms.CharField(
        label="Notify from an impact of",
        help_text="Anomalies that cost less extra are recorded but not notified.",
    )
    notify_min_percent = forms.CharField(
        label="and an impact percent of",
        help_text="Anomalies less far above the expected cost are recorded but not notified.",
    )
    metric = forms.ChoiceField(
        label="Cost", choices=AnomalyMonitor._meta.get_field("metric").choices or []
    )
    active = forms.BooleanField(
        label="Active: check every day", required=False, help_text="Off, nothing is checked."
    )

    def __init__(self, *args: Any, monitor: AnomalyMonitor, editable: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.initial.update(
            sensitivity=_number(monitor.sensitivity),
            baseline_days=str(monitor.baseline_days),
            notify_min_impact=_number(monitor.notify_min_impact),
            notify_min_percent=_number(monitor.notify_min_percent),
            metric=monitor.metric,
            active=monitor.active,
        )
        for field in self.fields.values():
            field.disabled = not editable
            if isinstance(field, forms.CharField):
                field.widget.attrs.update({"inputmode": "decimal", "class": "num"})
        self.fields["baseline_days"].widget.attrs["inputmode"] = "numeric"

    def changes(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items()}

    def show(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)
