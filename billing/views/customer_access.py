"""Who logs in as an end customer: the customer page's "Who has access", its forms, and
the page where an invited login sets its password."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.generic import FormView

from billing.apis import CUSTOMER_WRITERS
from billing.models import EndCustomer
from billing.services.customer_access import (
    INVITATION_DAYS,
    Invitation,
    customer_login_create,
    customer_login_invite,
    customer_login_link,
    customer_login_remove,
    invitation_accept,
    invited_user,
)
from billing.views.sharing import EndCustomerDetailView
from portal.core.errors import ApplicationError
from portal.core.views import WriteRoleRequiredMixin
from portal.users.models import Role, User
from portal.users.roles import TENANT_WIDE_ROLES

# Who sees a customer's logins: the roles that see every customer (finance reads only).
ACCESS_READERS = TENANT_WIDE_ROLES


class CustomerLoginForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, help_text="The invitation link is sent here.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    setup = forms.ChoiceField(
        label="Password",
        choices=[
            (
                "invite",
                f"Invite: a link to choose the password (works once, {INVITATION_DAYS} days)",
            ),
            ("password", "Set a password now and pass it on yourself"),
        ],
        initial="invite",
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        max_length=256,
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("setup") == "password" and not data.get("password"):
            self.add_error("password", "Enter a password, or send an invitation instead.")
        if data.get("setup") == "invite":
            data["password"] = ""
        return data


class LoginChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        label = f"{obj.get_username()} ({name})" if name else obj.get_username()
        others = [str(customer) for customer in obj.end_customers.all()]
        return f"{label} — sees {', '.join(others)}" if others else label


class LoginLinkForm(forms.Form):
    user = LoginChoiceField(queryset=User.objects.none(), empty_label=None, label="Login")

    def __init__(self, *args: Any, customer: EndCustomer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Logins without a customer first; the others are refused with their customer named.
        field: Any = self.fields["user"]
        field.queryset = (
            User.objects.filter(role=Role.END_CUSTOMER)
            .exclude(end_customers=customer)
            .annotate(customer_count=Count("end_customers"))
            .prefetch_related("end_customers")
            .order_by("customer_count", "username")
        )


class EndCustomerAccessView(EndCustomerDetailView):
    """The customer's page with "Who has access": its logins, and for writers the forms."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.request.user.role in ACCESS_READERS:
            context["logins"] = sorted(self.object.viewers.all(), key=lambda u: u.username)
            if context["can_write"]:
                context["link_form"] = LoginLinkForm(customer=self.object)
        return context


class CustomerWriteMixin(WriteRoleRequiredMixin):
    """A write about one customer (`pk` in the URL) that the user may see."""

    write_roles = CUSTOMER_WRITERS
    kwargs: dict[str, Any]

    @cached_property
    def customer(self) -> EndCustomer:
        rows = EndCustomer.objects.visible_to(self.request.user)  # type: ignore[attr-defined]
        return get_object_or_404(rows, pk=self.kwargs["pk"])

    def login(self) -> User:
        return get_object_or_404(self.customer.viewers.all(), pk=self.kwargs["user_id"])

    def back(self) -> HttpResponse:
        return redirect("endcustomer-detail", pk=self.customer.pk)


def _invitation_page(
    request: HttpRequest, customer: EndCustomer, invitation: Invitation
) -> HttpResponse:
    context = {"customer": customer, "invitation": invitation, "days": INVITATION_DAYS}
    response = render(request, "billing/customer_login_invited.html", context)
    response["Cache-Control"] = "no-store"  # the page holds a one-time link
    return response


class CustomerLoginCreateView(CustomerWriteMixin, FormView[CustomerLoginForm]):
    form_class = CustomerLoginForm
    template_name = "billing/customer_login_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "customer": self.customer}

    def form_valid(self, form: CustomerLoginForm) -> HttpResponse:
        data = {k: v for k, v in form.cleaned_data.items() if k != "setup"}
        try:
            created = customer_login_create(
                actor=self.request.user,
                customer=self.customer,
                site_url=self.request.build_absolute_uri("/"),
                **data,
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        if created.invitation is not None:
            return _invitation_page(self.request, self.customer, created.invitation)
        messages.success(
            self.request,
            f"{created.user.get_username()} can log in now and sees {self.customer}.",
        )
        return self.back()


class CustomerLoginLinkView(CustomerWriteMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = LoginLinkForm(request.POST, customer=self.customer)
        if not form.is_valid():
            messages.error(request, "Choose an end-customer login to link.")
            return self.back()
        try:
            user = customer_login_link(
                actor=request.user, customer=self.customer, user=form.cleaned_data["user"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{user.get_username()} sees {self.customer} now.")
        return self.back()


class CustomerLoginRemoveView(CustomerWriteMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
        user = get_object_or_404(User.objects.visible_to(request.user), pk=user_id)
        try:
            deactivated = customer_login_remove(
                actor=request.user, customer=self.customer, user=user
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            tail = " Its login is deactivated." if deactivated else ""
            messages.success(
                request, f"{user.get_username()} no longer sees {self.customer}.{tail}"
            )
        return self.back()


class CustomerLoginInviteView(CustomerWriteMixin, View):
    """A new one-time link for a login of the customer (lost invitation, lost password)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
        try:
            invitation = customer_login_invite(
                actor=request.user,
                customer=self.customer,
                user=self.login(),
                site_url=request.build_absolute_uri("/"),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self.back()
        return _invitation_page(request, self.customer, invitation)


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label="New password",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text="At least 8 characters, not a common password.",
    )
    again = forms.CharField(
        label="New password again",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("again") and data["password"] != data["again"]:
            self.add_error("again", "The two passwords differ.")
        return data


@never_cache
@csrf_protect
def set_password_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Open to anyone holding a valid link: an invited login chooses its password."""
    user = invited_user(uidb64, token)
    form = SetPasswordForm(request.POST or None)
    if user is not None and request.method == "POST" and form.is_valid():
        try:
            invitation_accept(uidb64=uidb64, token=token, password=form.cleaned_data["password"])
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Your password is set. Log in as {user.get_username()}.")
            return redirect("login")
    # The address holds the token: the default Referrer-Policy (same-origin) keeps it
    # from other sites; "no-referrer" would make browsers post `Origin: null`, which the
    # CSRF check refuses.
    return render(request, "billing/customer_set_password.html", {"form": form, "invited": user})
