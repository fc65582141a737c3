"""Tag keys the tenant reports on, with the spellings read as the same key."""

from __future__ import annotations

from typing import Any

from billing.models import TagKey
from portal.audit.services import audited_create, audited_update
from portal.core.errors import ApplicationError


def _clean_aliases(name: str, aliases: Any) -> list[str]:
    if not isinstance(aliases, list | tuple) or not all(isinstance(a, str) for a in aliases):
        raise ApplicationError(
            "Aliases are a list of key spellings.", code="invalid_aliases", field="aliases"
        )
    cleaned = sorted({alias.strip() for alias in aliases if alias.strip() and alias != name})
    taken = TagKey.objects.exclude(name=name).filter(name__in=cleaned)
    if taken:
        raise ApplicationError(
            f"{taken[0].name!r} is a tag key of its own, so it cannot be an alias of {name!r}.",
            code="alias_is_key",
            field="aliases",
        )
    return cleaned


def tag_key_create(*, actor: Any, name: str, aliases: Any = (), summarize: bool = True) -> TagKey:
    name = name.strip()
    if TagKey.objects.filter(name=name).exists():
        raise ApplicationError(f"The tag key {name!r} exists.", code="tag_key_taken", field="name")
    owner = next((k for k in TagKey.objects.all() if name in k.aliases), None)
    if owner is not None:
        raise ApplicationError(
            f"{name!r} is already read as the tag key {owner.name!r}.",
            code="name_is_alias",
            field="name",
        )
    key = TagKey(name=name, aliases=_clean_aliases(name, list(aliases)), summarize=summarize)
    return audited_create(actor=actor, instance=key)


def tag_key_update(*, actor: Any, instance: TagKey, **data: Any) -> TagKey:
    if "aliases" in data:
        data["aliases"] = _clean_aliases(instance.name, data["aliases"])
    return audited_update(actor=actor, instance=instance, data=data)
