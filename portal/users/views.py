from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from portal.core.errors import ApplicationError
from portal.core.forms import FormServiceView
from portal.core.views import ScopedViewMixin
from portal.users.forms import LoginForm, UserChangeForm, UserCreateForm
from portal.users.models import User
from portal.users.services import login_authenticate, user_create, user_update


@never_cache
@csrf_protect
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = login_authenticate(request=request, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user)
            target = request.GET.get("next", "")
            if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                return redirect(target)
            return redirect("dashboard")
    return render(request, "users/login.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect("login")


class UserListView(ScopedViewMixin, ListView[User]):
    model = User
    template_name = "users/user_list.html"
    paginate_by = 50


class UserCreateView(FormServiceView):
    form_class = UserCreateForm
    template_name = "users/user_form.html"
    success_url_name = "user-list"

    def perform(self, data: dict[str, Any]) -> Any:
        return user_create(actor=self.request.user, **data)


class UserChangeView(FormServiceView):
    model = User
    form_class = UserChangeForm
    template_name = "users/user_form.html"
    success_url_name = "user-list"

    def perform(self, data: dict[str, Any]) -> Any:
        return user_update(actor=self.request.user, instance=self.get_object(), **data)
