"""Registering the payers and accounts a bill mentions in the organization model."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction

from billing.ingest.staging import PeriodLoad
from billing.models import Account
from billing.services import account_create, organization_create
from portal.core.errors import ApplicationError


def register_seen_accounts(*, actor: Any, loads: list[PeriodLoad]) -> list[str]:
    """Create the payers (as organizations) and accounts not known yet; return remarks."""
    notes: list[str] = []
    for load in loads:
        payer_id = load.key[1]
        providers = Counter(provider for provider, _ in load.accounts) or Counter(["AWS"])
        provider = _provider(providers.most_common(1)[0][0])
        payer_name = min(load.payer_names) if load.payer_names else ""
        organization = _register_payer(actor, provider, payer_id, payer_name, notes)
        for (account_provider, account_id), name in sorted(load.accounts.items()):
            if account_id == payer_id:
                continue
            _register_account(
                actor, _provider(account_provider), account_id, name, organization, notes
            )
    return notes


def _provider(name: str) -> str:
    return "AWS" if name.upper() in {"AWS", "AMAZON WEB SERVICES"} else (name or "AWS")


def _register_payer(actor: Any, provider: str, payer_id: str, name: str, notes: list[str]) -> Any:
    existing = Account.objects.filter(provider=provider, account_id=payer_id).first()
    if existing is not None:
        return getattr(existing, "managed_organization", None) or existing.organization
    try:
        with transaction.atomic():
            organization = organization_create(
                actor=actor,
                name=name or f"Payer {payer_id}",
                management_account_id=payer_id,
                management_account_name=name,
                provider=provider,
            )
    except ApplicationError as exc:
        notes.append(f"Payer {payer_id} was not registered: {exc.message}")
        return None
    notes.append(f"Registered payer {payer_id} as organization {organization.name}.")
    return organization


def _register_account(
    actor: Any, provider: str, account_id: str, name: str, organization: Any, notes: list[str]
) -> None:
    if Account.objects.filter(provider=provider, account_id=account_id).exists():
        return
    try:
        with transaction.atomic():
            account_create(
                actor=actor,
                account_id=account_id,
                name=name,
                organization=organization,
                provider=provider,
            )
    except ApplicationError as exc:
        notes.append(f"Account {account_id} was not registered: {exc.message}")
        return
    notes.append(f"Registered account {account_id}" + (f" ({name})." if name else "."))
