"""What the billing pages share: write-role context, scoped form choices, redirects."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.db import models
from django.http import HttpResponse
from django.urls import reverse

from portal.core.forms import FormServiceView
from portal.core.permissions import ADMIN_ONLY, may_write


class WritersContextMixin:
    """Tells the template whether this user may write (`can_write`), to show buttons."""

    write_roles: ClassVar[frozenset[str]] = ADMIN_ONLY
    request: Any

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["can_write"] = may_write(self.request.user, self.write_roles)
        return context


class BillingFormView(FormServiceView):
    """A form page of a billing row: choices scoped to the user; saving opens the row.

    `detail_url_name` names the page to open after a save (with the saved row's pk);
    without it the list (`success_url_name`) opens.
    """

    detail_url_name: ClassVar[str | None] = None
    _saved: models.Model | None = None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, data: dict[str, Any]) -> Any:
        self._saved = self.save(data)
        return self._saved

    def save(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def saved_url(self, saved: models.Model) -> str | None:
        if self.detail_url_name is None:
            return None
        return reverse(self.detail_url_name, args=[saved.pk])

    def form_valid(self, form: forms.Form) -> HttpResponse:
        response = super().form_valid(form)
        url = self.saved_url(self._saved) if self._saved is not None else None
        if response.status_code == 302 and url:
            response["Location"] = url
        return response
