"""The endpoint form; the services check the values, so the page and the API refuse alike."""

from __future__ import annotations

from typing import Any

from django import forms

from insights.models import NOTIFICATION_EVENTS, NotificationEndpoint

# "test" is sent with the page's button, never by subscription.
SUBSCRIBABLE = [(key, label) for key, label in NOTIFICATION_EVENTS if key != "test"]


class EndpointForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. Finance team or Ops Slack relay.")
    kind = forms.ChoiceField(
        choices=NotificationEndpoint.Kind.choices,
        initial=NotificationEndpoint.Kind.EMAIL,
        widget=forms.RadioSelect,
    )
    target = forms.CharField(
        max_length=2000,
        label="Send to",
        help_text="E-mail: addresses separated by commas. Webhook: an https:// URL that "
        "accepts a signed JSON POST.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive endpoints receive nothing."
    )

    @classmethod
    def initial_of(cls, endpoint: NotificationEndpoint) -> dict[str, Any]:
        return {
            "name": endpoint.name,
            "kind": endpoint.kind,
            "target": endpoint.target,
            "events": list(endpoint.events),
            "active": endpoint.active,
        }
