"""What the invoice pages share: who may open them, and what the templates are told."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from invoices.apis import INVOICE_WRITERS, SETUP_WRITERS
from invoices.selectors import MARGIN_ROLES, shows_margins
from portal.core.permissions import may_write
from portal.core.views import ScopedViewMixin


class ReadersMixin(ScopedViewMixin):
    """Only `read_roles` open the page (others get 403); rows through `visible_to`.

    Tells the template whether the user may change things (`can_write`) and see
    wholesale cost and margins (`margins`).
    """

    read_roles: ClassVar[frozenset[str]] = MARGIN_ROLES
    write_roles: ClassVar[frozenset[str]] = SETUP_WRITERS

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and user.role not in self.read_roles:
            raise PermissionDenied("Your role may not see this.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["can_write"] = may_write(self.request.user, self.write_roles)
        context["can_invoice"] = may_write(self.request.user, INVOICE_WRITERS)
        context["margins"] = shows_margins(self.request.user)
        return context


def form_errors(form: forms.Form) -> str:
    """A form's errors in one line, each after its field's label."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ").capitalize()) if field else ""
        text = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {text}" if label else text)
    return "; ".join(parts)
