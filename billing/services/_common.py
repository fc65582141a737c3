"""Small helpers shared by the billing write services."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError

from billing.models import Account
from portal.core.errors import ApplicationError


@contextmanager
def model_errors_as_application_errors() -> Iterator[None]:
    """Turn a ValidationError from `full_clean()` into the one application error.

    The services check every rule a person can break before `full_clean()`; this catches
    the rest (an AWS id without 12 digits, a bad email) so pages and the API show them alike.
    """
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise ApplicationError(" ".join(exc.messages), code="invalid") from exc
        errors = exc.message_dict
        field = next(iter(errors))
        message = " ".join(m for messages in errors.values() for m in messages)
        if field == "__all__":
            raise ApplicationError(message, code="invalid") from exc
        raise ApplicationError(message, code=f"invalid_{field}", field=field) from exc


def refuse_unknown_fields(data: dict[str, Any], allowed: Iterable[str], noun: str) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApplicationError(
            f"These {noun} fields cannot be changed here: {', '.join(sorted(unknown))}.",
            code="invalid_field",
        )


def require_payers(accounts: Iterable[Account], *, field: str = "payers") -> list[Account]:
    """The accounts, if each is an organization's management (payer) account.

    Asks the database (one query) rather than the instances, whose cached answer may be old.
    """
    chosen = list(accounts)
    payer_ids = set(
        Account.objects.payers().filter(pk__in=[a.pk for a in chosen]).values_list("pk", flat=True)
    )
    others = [str(a) for a in chosen if a.pk not in payer_ids]
    if others:
        raise ApplicationError(
            f"Only management (payer) accounts can be chosen here; {', '.join(others)} "
            f"{'is' if len(others) == 1 else 'are'} not.",
            code="not_a_payer",
            field=field,
        )
    return chosen
