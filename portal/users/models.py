from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from portal.core.access import ScopedQuerySet
from portal.users.roles import TENANT_WIDE_ROLES, Role

__all__ = ["FailedLogin", "Role", "User"]


class UserQuerySet(ScopedQuerySet["User"]):
    def for_team_lead(self, user: Any) -> UserQuerySet:
        return self.filter(pk=user.pk)

    def for_end_customer(self, user: Any) -> UserQuerySet:
        return self.filter(pk=user.pk)


class PortalUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """A person of one tenant (stored in the tenant's schema) or a platform operator.

    Platform operators live in the public schema and are superusers there; their role
    is not used.
    """

    email = models.EmailField("email address", blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.END_CUSTOMER)

    objects: ClassVar[PortalUserManager] = PortalUserManager()

    class Meta:
        ordering = ["username"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() on this instance (Django's `changepassword` and admin pages do
        # it outside our services): API tokens must not outlive the old password.
        password_set = self.pk is not None and getattr(self, "_password", None) is not None
        super().save(*args, **kwargs)
        if password_set:
            from portal.users.services import user_tokens_revoke

            user_tokens_revoke(user=self)

    @property
    def sees_whole_tenant(self) -> bool:
        return self.role in TENANT_WIDE_ROLES

    def has_role(self, *roles: str) -> bool:
        return self.is_authenticated and self.role in roles


class FailedLogin(models.Model):
    """One failed login, kept to throttle guessing across all server processes."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} at {self.at:%Y-%m-%d %H:%M}"
