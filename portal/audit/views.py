from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.views.generic import ListView

from portal.audit.models import AuditEntry
from portal.audit.selectors import audit_entry_list, audit_object_types
from portal.users.models import User
from portal.users.roles import Role


class AuditLogView(LoginRequiredMixin, ListView[AuditEntry]):
    template_name = "audit/audit_list.html"
    paginate_by = 50

    def get_queryset(self) -> Any:
        if not self.request.user.has_role(Role.ADMIN):  # type: ignore[union-attr]
            raise PermissionDenied("Only admins read the audit log.")
        actor = self.request.GET.get("actor", "")
        return audit_entry_list(
            user=self.request.user,
            object_type=self.request.GET.get("object_type", ""),
            object_id=self.request.GET.get("object_id", ""),
            actor_id=int(actor) if actor.isdigit() else None,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["object_types"] = audit_object_types()
        context["actors"] = User.objects.order_by("username")
        context["filters"] = self.request.GET
        return context
