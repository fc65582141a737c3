"""Registering the payers and accounts a bill mentions in the organization model."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db import transaction

from billing.ingest.staging import PeriodLoad
from billing.models import Account
from billing.services import account_create, organization_create
from portal.core.errors import ApplicationError

EXAMPLES = 5


class Outcome:
    """Which accounts were registered and which were refused, for one short remark each."""

    def __init__(self) -> None:
        self.registered: list[str] = []
        self.refused: dict[str, list[str]] = defaultdict(list)

    def notes(self) -> list[str]:
        notes = [_listed(f"Registered {len(self.registered)} new account(s)", self.registered)]
        notes = notes if self.registered else []
        for reason, ids in self.refused.items():
            notes.append(_listed(f"{len(ids)} account(s) not registered ({reason})", ids))
        return notes


def _listed(text: str, ids: list[str]) -> str:
    more = f", and {len(ids) - EXAMPLES} more" if len(ids) > EXAMPLES else ""
    return f"{text}: {', '.join(ids[:EXAMPLES])}{more}."


def register_seen_accounts(*, actor: Any, loads: list[PeriodLoad]) -> list[str]:
    """Create the payers (as organizations) and accounts not known yet; return remarks."""
    outcome = Outcome()
    for load in loads:
        payer_id = load.key[1]
        providers = Counter(provider for provider, _ in load.accounts) or Counter(["AWS"])
        provider = _provider(providers.most_common(1)[0][0])
        payer_name = min(load.payer_names) if load.payer_names else ""
        organization = _register_payer(actor, provider, payer_id, payer_name, outcome)
        for (account_provider, account_id), name in sorted(load.accounts.items()):
            if account_id != payer_id:
                _register(
                    outcome,
                    account_id,
                    account_create,
                    actor=actor,
                    account_id=account_id,
                    name=name,
                    organization=organization,
                    provider=_provider(account_provider),
                )
    return outcome.notes()


def _provider(name: str) -> str:
    return "AWS" if name.upper() in {"AWS", "AMAZON WEB SERVICES"} else (name or "AWS")


def _register_payer(actor: Any, provider: str, payer_id: str, name: str, outcome: Outcome) -> Any:
    existing = Account.objects.filter(provider=provider, account_id=payer_id).first()
    if existing is not None:
        return getattr(existing, "managed_organization", None) or existing.organization
    return _register(
        outcome,
        payer_id,
        organization_create,
        actor=actor,
        name=name or f"Payer {payer_id}",
        management_account_id=payer_id,
        management_account_name=name,
        provider=provider,
    )


def _register(outcome: Outcome, seen_id: str, service: Any, **values: Any) -> Any:
    """Call the creating service unless the account exists; note what happened."""
    provider = values.get("provider", "AWS")
    if Account.objects.filter(provider=provider, account_id=seen_id).exists():
        return None
    try:
        with transaction.atomic():
            created = service(**values)
    except ApplicationError as exc:
        outcome.refused[exc.message.replace(repr(seen_id), "this id")].append(seen_id)
        return None
    outcome.registered.append(seen_id)
    return created
