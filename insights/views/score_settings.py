"""The score settings page (/scores/settings/): admins change the weights, targets and
required tag keys; finance, reseller admins and team leads read them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.views.generic import FormView

from billing.models import TagKey
from insights.scores.compute import rule_tag_keys
from insights.scores.settings import (
    MAX_TAG_KEYS,
    SCORE_SETTINGS_READERS,
    EffectiveSettings,
    ScoreSettingsInvalid,
    score_recompute_state,
    score_settings_get,
    score_settings_reset,
    score_settings_update,
)
from portal.core.errors import ApplicationError
from portal.core.permissions import ADMIN_ONLY, may_write

TAG_SUGGESTIONS = 50
RECOMPUTING = "Scores are recomputed in the background with the new settings; refresh in a minute."


def _number(value: Any) -> str:
    return format(value.normalize(), "f")


class ScoreSettingsForm(forms.Form):
    """A weight and a target per component, and the tag keys comma separated; the service
    checks the values, so the page and the API refuse alike."""

    required_tag_keys = forms.CharField(
        required=False,
        label="Required tag keys",
        help_text=f"Comma separated, at most {MAX_TAG_KEYS}, e.g. team, environment.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, effective: EffectiveSettings, editable: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.components = effective.components
        for c in effective.components:
            self.fields[f"weight_{c.key}"] = forms.CharField(
                required=False, label=f"Weight of {c.label}", initial=_number(c.weight)
            )
            self.fields[f"target_{c.key}"] = forms.CharField(
                required=False, label=f"Target of {c.label} (%)", initial=_number(c.target)
            )
        self.fields["required_tag_keys"].initial = ", ".join(effective.required_tag_keys)
        for name, field in self.fields.items():
            field.disabled = not editable
            if name != "required_tag_keys":
                field.widget.attrs.update({"inputmode": "decimal", "class": "num"})

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"weight_{c.key}"], self[f"target_{c.key}"]) for c in self.components]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = [part.strip() for part in data["required_tag_keys"].split(",")]
        return {
            "weights": {c.key: data[f"weight_{c.key}"].strip() for c in self.components},
            "targets": {c.key: data[f"target_{c.key}"].strip() for c in self.components},
            "required_tag_keys": [key for key in keys if key],
        }

    def show(self, error: ApplicationError) -> None:
        """The service's field (`weights.graviton`) as the form's (`weight_graviton`)."""
        kind, _, key = (error.field or "").partition(".")
        name = {"weights": f"weight_{key}", "targets": f"target_{key}"}.get(kind, kind)
        self.add_error(name if name in self.fields else None, error.message)


class ScoreSettingsView(LoginRequiredMixin, FormView[ScoreSettingsForm]):
    form_class = ScoreSettingsForm
    template_name = "insights/score_settings.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and getattr(user, "role", None) not in SCORE_SETTINGS_READERS:
            raise PermissionDenied("Your role does not see the score settings.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def editable(self) -> bool:
        return may_write(self.request.user, ADMIN_ONLY)

    def get_form_kwargs(self) -> dict[str, Any]:
        self.effective = score_settings_get()
        return {
            **super().get_form_kwargs(),
            "effective": self.effective,
            "editable": self.editable,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        names = TagKey.objects.visible_to(self.request.user).order_by("name")
        context.update(
            effective=self.effective,
            editable=self.editable,
            recompute=score_recompute_state(),
            tag_suggestions=list(names.values_list("name", flat=True)[:TAG_SUGGESTIONS]),
            default_tag_keys=rule_tag_keys(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.editable:
            raise PermissionDenied("Only admins change the score settings.")
        if request.POST.get("reset"):
            before = score_settings_get()
            after = score_settings_reset(actor=request.user)
            if after.updated_at == before.updated_at:
                messages.info(request, "The score settings were the defaults already.")
            else:
                messages.success(
                    request, f"The score settings are the defaults again. {RECOMPUTING}"
                )
            return redirect("score-settings")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: ScoreSettingsForm) -> HttpResponse:
        try:
            after = score_settings_update(actor=self.request.user, **form.changes())
        except ScoreSettingsInvalid as exc:
            for error in exc.errors:
                form.show(error)
            return self.form_invalid(form)
        except ApplicationError as exc:
            form.show(exc)
            return self.form_invalid(form)
        if after.updated_at == self.effective.updated_at:
            messages.info(self.request, "Nothing changed: the settings were these already.")
        else:
            messages.success(self.request, f"Saved the score settings. {RECOMPUTING}")
        return redirect("score-settings")
