"""The notification pages under /settings/notifications/: endpoints, their secrets, a
test-send and the delivery log. Admins only; other roles are refused (403)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, ListView

from insights.models import NotificationDelivery, NotificationEndpoint
from insights.notifications.dispatch import MAX_ATTEMPTS
from insights.notifications.forms import EndpointForm
from insights.notifications.selectors import delivery_list, endpoint_list
from insights.notifications.services import (
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_test_send,
    endpoint_update,
    secret_hint,
)
from portal.core.errors import ApplicationError
from portal.core.views import WriteRoleRequiredMixin

# The role check of WriteRoleRequiredMixin (admins only) guards reading too: endpoints
# hold addresses and signing secrets.
AdminOnly = WriteRoleRequiredMixin
DELIVERIES_PER_PAGE = 50


def secret_page(request: HttpRequest, endpoint: NotificationEndpoint, made: str) -> HttpResponse:
    """The secret, shown this once; the page is not kept by the browser's cache."""
    response = render(
        request,
        "insights/notifications/secret.html",
        {"endpoint": endpoint, "secret": endpoint.secret, "made": made},
    )
    response["Cache-Control"] = "no-store"
    return response


class EndpointMixin(AdminOnly):
    kwargs: dict[str, Any]

    @cached_property
    def endpoint(self) -> NotificationEndpoint:
        return get_object_or_404(NotificationEndpoint, pk=self.kwargs["pk"])


class EndpointListView(AdminOnly, ListView[NotificationEndpoint]):
    template_name = "insights/notifications/endpoint_list.html"
    context_object_name = "endpoints"

    def get_queryset(self) -> Any:
        return endpoint_list()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for endpoint in context["endpoints"]:
            endpoint.secret_hint = secret_hint(endpoint.secret)
            endpoint.addresses = [a.strip() for a in endpoint.target.split(",") if a.strip()]
        context["max_attempts"] = MAX_ATTEMPTS
        return context


class EndpointFormView(AdminOnly, FormView[EndpointForm]):
    form_class = EndpointForm
    template_name = "insights/notifications/endpoint_form.html"

    def show(self, form: EndpointForm, error: ApplicationError) -> HttpResponse:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return self.form_invalid(form)


class EndpointCreateView(EndpointFormView):
    def form_valid(self, form: EndpointForm) -> HttpResponse:
        try:
            endpoint = endpoint_create(actor=self.request.user, **form.cleaned_data)
        except ApplicationError as error:
            return self.show(form, error)
        if endpoint.kind == NotificationEndpoint.Kind.WEBHOOK:
            return secret_page(self.request, endpoint, "made")
        messages.success(self.request, f"Saved {endpoint}.")
        return redirect("notification-endpoints")


class EndpointUpdateView(EndpointMixin, EndpointFormView):
    def get_initial(self) -> dict[str, Any]:
        return EndpointForm.initial_of(self.endpoint)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "object": self.endpoint}

    def form_valid(self, form: EndpointForm) -> HttpResponse:
        had_secret = bool(self.endpoint.secret)
        try:
            endpoint = endpoint_update(
                actor=self.request.user, endpoint=self.endpoint, **form.cleaned_data
            )
        except ApplicationError as error:
            return self.show(form, error)
        if endpoint.secret and not had_secret:  # became a webhook: it has a new secret
            return secret_page(self.request, endpoint, "made")
        messages.success(self.request, f"Saved {endpoint}.")
        return redirect("notification-endpoints")


class EndpointDeleteView(EndpointMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        context = {"endpoint": self.endpoint, "deliveries": self.endpoint.deliveries.count()}
        return render(request, "insights/notifications/endpoint_delete.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        name = str(self.endpoint)
        endpoint_delete(actor=request.user, endpoint=self.endpoint)
        messages.success(request, f"Deleted {name} and its delivery log.")
        return redirect("notification-endpoints")


class EndpointRotateView(EndpointMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(
            request, "insights/notifications/endpoint_rotate.html", {"endpoint": self.endpoint}
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            endpoint = endpoint_rotate_secret(actor=request.user, endpoint=self.endpoint)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("notification-endpoints")
        return secret_page(request, endpoint, "rotated")


class EndpointTestView(EndpointMixin, View):
    """POST only: a "test" message to this endpoint; its delivery shows in the log."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = endpoint_test_send(actor=request.user, endpoint=self.endpoint)
        messages.success(
            request,
            f"A test message to {self.endpoint} is on its way; its outcome shows here "
            "(refresh in a few seconds).",
        )
        url = reverse("notification-deliveries")
        return redirect(f"{url}?endpoint={delivery.endpoint_id}")


class DeliveryListView(AdminOnly, ListView[NotificationDelivery]):
    template_name = "insights/notifications/delivery_list.html"
    context_object_name = "deliveries"
    paginate_by = DELIVERIES_PER_PAGE

    @cached_property
    def filters(self) -> dict[str, Any]:
        endpoint = self.request.GET.get("endpoint", "").strip()
        status = self.request.GET.get("status", "").strip()
        return {
            "endpoint_id": int(endpoint) if endpoint.isdigit() and len(endpoint) < 19 else None,
            "status": status if status in NotificationDelivery.Status.values else None,
        }

    def get_queryset(self) -> Any:
        return delivery_list(**self.filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            endpoints=NotificationEndpoint.objects.order_by("name"),
            statuses=NotificationDelivery.Status.choices,
            selected_endpoint=self.filters["endpoint_id"],
            selected_status=self.filters["status"] or "",
            max_attempts=MAX_ATTEMPTS,
        )
        return context
