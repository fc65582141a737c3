"""Who logs in as an end customer: logins created, linked, invited and removed.

An end-customer login (role `end_customer`) sees the data of the one customer it is a
viewer of. A reseller creates it from the customer's page, with a password or with an
invitation: a one-time link to set the password (Django's reset tokens, bound to the
tenant), shown to the reseller and mailed to the login's address.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from billing.models import EndCustomer
from billing.services._common import model_errors_as_application_errors
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError
from portal.users.models import Role, User
from portal.users.services import user_create, user_tokens_revoke, user_update

logger = logging.getLogger(__name__)
INVITATION_DAYS = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


class InvitationTokens(PasswordResetTokenGenerator):
    """Reset tokens of one tenant: a token cannot set a password in another schema.

    A token dies once used (the password hash changes), after a login (`last_login`) and
    after PASSWORD_RESET_TIMEOUT.
    """

    key_salt = "billing.services.customer_access.InvitationTokens"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        schema = getattr(connection, "schema_name", "")
        return f"{schema}:{super()._make_hash_value(user, timestamp)}"


invitation_tokens = InvitationTokens()


@dataclass(frozen=True)
class Invitation:
    user: User
    url: str  # the one-time link to set the password
    emailed_to: str  # "" when the login has no address: the reseller passes the link on


@dataclass(frozen=True)
class CustomerLogin:
    user: User
    invitation: Invitation | None  # None when the reseller set the password


def customer_logins(customer: EndCustomer) -> list[User]:
    """The logins that see `customer`'s data, by username."""
    return list(customer.viewers.order_by("username"))


@transaction.atomic
def customer_login_create(
    *,
    actor: Any,
    customer: EndCustomer,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str = "",
    site_url: str = "",
) -> CustomerLogin:
    """A new end-customer login of `customer`: with `password`, or else invited by a link
    (`site_url` is the tenant's address the link starts with)."""
    username = username.strip()
    if not username:
        raise ApplicationError("Give the login a username.", code="required", field="username")
    with model_errors_as_application_errors():
        user = user_create(
            actor=actor,
            username=username,
            # An invited login gets no usable password until its owner sets one.
            password=password or f"{secrets.token_urlsafe(24)}-Aa1",
            role=Role.END_CUSTOMER,
            email=email.strip(),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
    if not password:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    customer.viewers.add(user)
    _audit_access(actor, customer, "endcustomer.login_create", user, invited=not password)
    invitation = None if password else _invite(customer, user, site_url)
    return CustomerLogin(user=user, invitation=invitation)


@transaction.atomic
def customer_login_link(*, actor: Any, customer: EndCustomer, user: User) -> User:
    """Give an existing end-customer login access to `customer` (its one customer); a
    login deactivated when it lost its customer is active again."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role != Role.END_CUSTOMER:
        raise ApplicationError(
            f"{user.get_username()} is a {user.get_role_display()} login; only end-customer "
            "logins can see a customer's data.",
            code="not_end_customer",
            field="user",
        )
    if customer.viewers.filter(pk=user.pk).exists():
        raise ApplicationError(
            f"{user.get_username()} already sees {customer}.", code="already_linked", field="user"
        )
    other = user.end_customers.exclude(pk=customer.pk).first()
    if other is not None:
        raise ApplicationError(
            f"{user.get_username()} belongs to the end customer {other}: an end-customer "
            f"login sees one customer. Remove its access there first.",
            code="other_customer",
            field="user",
        )
    reactivated = not user.is_active
    if reactivated:
        user = user_update(actor=actor, instance=user, is_active=True)
    customer.viewers.add(user)
    _audit_access(actor, customer, "endcustomer.login_link", user, reactivated=reactivated)
    return user


@transaction.atomic
def customer_login_remove(*, actor: Any, customer: EndCustomer, user: User) -> bool:
    """Take `user`'s access to `customer`; a login left without a customer is deactivated
    (its API tokens revoked). Whether it was."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _refuse_other_login(customer, user)
    customer.viewers.remove(user)
    deactivated = user.is_active and not user.end_customers.exists()
    if deactivated:
        user_update(actor=actor, instance=user, is_active=False)
        user_tokens_revoke(user=user)
    _audit_access(actor, customer, "endcustomer.login_remove", user, deactivated=deactivated)
    return deactivated


@transaction.atomic
def customer_login_invite(
    *, actor: Any, customer: EndCustomer, user: User, site_url: str = ""
) -> Invitation:
    """A new link for one of `customer`'s logins to set its password (a lost invitation,
    a forgotten password)."""
    _refuse_other_login(customer, user)
    if not user.is_active:
        raise ApplicationError(
            f"{user.get_username()} is deactivated; link it to the customer again first.",
            code="inactive",
            field="user",
        )
    _audit_access(actor, customer, "endcustomer.login_invite", user, emailed_to=user.email)
    return _invite(customer, user, site_url)


def _refuse_other_login(customer: EndCustomer, user: User) -> None:
    if user.role != Role.END_CUSTOMER or not customer.viewers.filter(pk=user.pk).exists():
        raise ApplicationError(
            f"{user.get_username()} is not an end-customer login of {customer}.",
            code="not_customer_login",
            field="user",
        )


def _audit_access(actor: Any, customer: EndCustomer, action: str, user: User, **facts: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        instance=customer,
        after={"user": user.pk, "username": user.get_username(), **facts},
    )


def _invite(customer: EndCustomer, user: User, site_url: str) -> Invitation:
    url = f"{site_url.rstrip('/')}{invitation_path(user)}"
    if user.email:
        tenant = getattr(connection, "tenant", None)
        site = getattr(tenant, "name", "") or "the FinOps portal"
        email, username = user.email, user.get_username()
        transaction.on_commit(lambda: _send(email, username, str(customer), site, url))
    return Invitation(user=user, url=url, emailed_to=user.email)


def _send(email: str, username: str, customer: str, site: str, url: str) -> None:
    body = (
        f"You have a login to the cost portal of {site}, to see the costs of {customer}.\n\n"
        f"Your username: {username}\n"
        f"Choose your password here (the link works once, for {INVITATION_DAYS} days):\n"
        f"{url}\n"
    )
    try:
        send_mail(f"Your login to {site}", body, None, [email])
    except OSError:
        # The reseller saw the link on the page and can pass it on.
        logger.exception("The invitation to %s could not be sent.", email)


def invitation_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("customer-set-password", args=[uid, invitation_tokens.make_token(user)])


def invited_user(uidb64: str, token: str) -> User | None:
    """The active end-customer login a link is for, if the link still works."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True, role=Role.END_CUSTOMER).first()
    if user is None or not invitation_tokens.check_token(user, token):
        return None
    return user


@transaction.atomic
def invitation_accept(*, uidb64: str, token: str, password: str) -> User:
    """Set the password an invitation link is for; the link works no more afterwards."""
    user = invited_user(uidb64, token)
    if user is None:
        raise ApplicationError(
            "This link has expired or was used already; ask your provider for a new one.",
            code="invalid_link",
        )
    if not password:
        raise ApplicationError("Choose a password.", code="required", field="password")
    return user_update(actor=user, instance=user, password=password)
