"""A form page whose submit calls one service."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.db import models
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import FormView

from portal.core.errors import ApplicationError
from portal.core.views import WriteRoleRequiredMixin


class FormServiceView(WriteRoleRequiredMixin, FormView[forms.Form]):
    """Create (no `model`) or change (with `model` and a `pk` in the URL) through a service.

    Subclasses implement `perform(cleaned_data)`; an ApplicationError it raises is shown
    on the form, on the field it names.
    """

    model: ClassVar[type[models.Model] | None] = None
    success_url_name: ClassVar[str]
    _object: models.Model | None = None

    def get_object(self) -> Any:
        if self._object is None:
            assert self.model is not None
            rows = self.model._default_manager.visible_to(self.request.user)  # type: ignore[attr-defined]
            self._object = get_object_or_404(rows, pk=self.kwargs["pk"])
        return self._object

    def get_initial(self) -> dict[str, Any]:
        if self.model is None:
            return super().get_initial()
        return model_to_dict(self.get_object())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["object"] = self.get_object() if self.model else None
        return context

    def perform(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def form_valid(self, form: forms.Form) -> HttpResponse:
        try:
            result = self.perform(form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved {result}.")
        return self.redirect_after(result)

    def redirect_after(self, result: Any) -> HttpResponse:
        return redirect(self.success_url_name)
