"""Users, roles and logins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from portal.audit.services import audit_record, audited_update, snapshot
from portal.core.errors import ApplicationError
from portal.users.models import FailedLogin, Role, User


def client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _recent_failures(username: str) -> int:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    return FailedLogin.objects.filter(username__iexact=username, at__gte=since).count()


def _lock_username(username: str) -> None:
    """Until the transaction ends, other logins as `username` in this tenant wait.

    Concurrent guesses then each see the failures before them, so no more than the limit
    ever reach the password check.
    """
    key = f"login:{getattr(connection, 'schema_name', '')}:{username.lower()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def login_authenticate(*, request: HttpRequest | None, username: str, password: str) -> User:
    """The user with these credentials, or an error; repeated failures lock the username.

    The lock holds for the failure window whatever the password, so a guesser learns
    nothing from later answers.
    """
    with transaction.atomic():
        _lock_username(username)
        outcome = _attempt_login(request, username, password)
    # Raised after the commit, so that the failure it recorded counts for the next guess.
    if isinstance(outcome, ApplicationError):
        raise outcome
    return outcome


def _attempt_login(
    request: HttpRequest | None, username: str, password: str
) -> User | ApplicationError:
    if _recent_failures(username) >= settings.LOGIN_FAILURE_LIMIT:
        minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
        return ApplicationError(
            f"Too many failed logins for this user. Try again in {minutes} minutes.",
            code="login_throttled",
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        FailedLogin.objects.create(username=username[:150], address=client_address(request))
        return ApplicationError("Username or password is wrong.", code="login_failed")
    FailedLogin.objects.filter(username__iexact=username).delete()
    return user


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(
            " ".join(exc.messages), code="weak_password", field="password"
        ) from exc


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", code="invalid_role", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            f"The username {username!r} is taken.", code="username_taken", field="username"
        )
    _check_password(password)
    user = User(
        username=username, email=email, role=role, first_name=first_name, last_name=last_name
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(actor=actor, action="user.create", instance=user, after=snapshot(user))
    return user


def user_update(*, actor: Any, instance: User, **data: Any) -> User:
    password = data.pop("password", None)
    allowed = {"email", "first_name", "last_name", "role", "is_active"}
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError(
            f"These user fields cannot be changed here: {', '.join(sorted(unknown))}.",
            code="invalid_field",
        )
    with transaction.atomic():
        if password:
            _check_password(password, instance)
            instance.set_password(password)
            data["password"] = instance.password
            revoked = user_tokens_revoke(user=instance)
            audit_record(
                actor=actor,
                action="user.set_password",
                instance=instance,
                after={"api_tokens_revoked": revoked},
            )
        return audited_update(actor=actor, instance=instance, data=data)


def user_tokens_revoke(*, user: User) -> int:
    """Delete the user's API tokens (after a password change); how many there were."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted
