"""Pages of billing transfers: invite, then accept, decline, cancel or withdraw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView

from billing import services
from billing.apis import TRANSFER_WRITERS
from billing.forms import TransferInviteForm, TransferWithdrawForm
from billing.models import BillingTransfer, TransferStatus
from billing.payers import months_moved_by
from billing.views.common import BillingFormView, WritersContextMixin
from portal.core.errors import ApplicationError
from portal.core.views import ScopedViewMixin, WriteRoleRequiredMixin

# The steps a transfer can take from each status (the services' state machine); the
# detail page offers only these.
STEPS_BY_STATUS: dict[str, tuple[str, ...]] = {
    TransferStatus.PENDING: ("accept", "decline", "cancel"),
    TransferStatus.ACCEPTED: ("withdraw",),
}
STEP_LABELS = {
    "accept": "Accept",
    "decline": "Decline",
    "cancel": "Cancel invitation",
    "withdraw": "Withdraw",
}
STEP_DONE = {
    "accept": "accepted",
    "decline": "declined",
    "cancel": "cancelled",
    "withdraw": "withdrawn",
}


class TransferListView(WritersContextMixin, ScopedViewMixin, ListView[BillingTransfer]):
    model = BillingTransfer
    write_roles = TRANSFER_WRITERS
    template_name = "billing/transfer_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[BillingTransfer]:
        return super().get_queryset().select_related("source", "destination")


class TransferDetailView(WritersContextMixin, ScopedViewMixin, DetailView[BillingTransfer]):
    """The transfer's status, with a button for each step it can take now."""

    model = BillingTransfer
    write_roles = TRANSFER_WRITERS
    template_name = "billing/transfer_detail.html"
    context_object_name = "transfer"

    def get_queryset(self) -> QuerySet[BillingTransfer]:
        return super().get_queryset().select_related("source", "destination", "invited_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        steps = STEPS_BY_STATUS.get(self.object.status, ()) if context["can_write"] else ()
        context["steps"] = [(step, STEP_LABELS[step]) for step in steps if step != "withdraw"]
        context["withdraw_form"] = (
            TransferWithdrawForm(user=self.request.user) if "withdraw" in steps else None
        )
        context["moved"] = months_moved_by(self.object)
        return context


class TransferCreateView(BillingFormView):
    form_class = TransferInviteForm
    write_roles = TRANSFER_WRITERS
    template_name = "billing/form.html"
    success_url_name = "transfer-list"
    detail_url_name = "transfer-detail"
    extra_context = {"noun": "billing transfer invitation", "submit_label": "Send invitation"}

    def save(self, data: dict[str, Any]) -> Any:
        return services.billing_transfer_invite(actor=self.request.user, **data)


class TransferStepView(WriteRoleRequiredMixin, View):
    """POST only: take one step (`step`) of a transfer, then show the transfer again."""

    model = BillingTransfer
    write_roles = TRANSFER_WRITERS
    http_method_names = ["post"]
    step = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rows = BillingTransfer.objects.visible_to(request.user)
        transfer = get_object_or_404(rows, pk=pk)
        try:
            self.take_step(transfer)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"The transfer is {STEP_DONE[self.step]}.")
        return redirect("transfer-detail", pk=transfer.pk)

    def take_step(self, transfer: BillingTransfer) -> BillingTransfer:
        actor = self.request.user
        if self.step == "withdraw":
            form = TransferWithdrawForm(self.request.POST, user=actor)
            if not form.is_valid():
                message = " ".join(map(str, form.errors.get("end_date") or ["Enter a valid date."]))
                raise ApplicationError(message, code="invalid_end_date", field="end_date")
            return services.billing_transfer_withdraw(
                actor=actor, transfer=transfer, **form.cleaned_data
            )
        service: Callable[..., BillingTransfer] = {
            "accept": services.billing_transfer_accept,
            "decline": services.billing_transfer_decline,
            "cancel": services.billing_transfer_cancel,
        }[self.step]
        return service(actor=actor, transfer=transfer)
