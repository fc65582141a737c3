"""Recording audit entries: every write service calls one of these."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from portal.audit.models import AuditEntry

M = TypeVar("M", bound=models.Model)
SECRET_FIELDS = frozenset({"password"})


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's field values as JSON-safe data (Decimals and dates as text)."""
    opts = instance._meta
    values: dict[str, Any] = {}
    for field in opts.concrete_fields:
        if field.attname in SECRET_FIELDS:
            continue
        value = field.value_from_object(instance)
        values[field.attname] = value.name if isinstance(value, FieldFile) else value
    if instance.pk is not None:
        for m2m in opts.many_to_many:
            values[m2m.name] = sorted(getattr(instance, m2m.attname).values_list("pk", flat=True))
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def acting_user(actor: Any) -> Any:
    """The user behind `actor`, or None for the system (a task, a command, anonymous)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_name: str = "",
) -> AuditEntry:
    """Record one action; `actor_name` names an actor from outside this schema."""
    user = acting_user(actor)
    return AuditEntry.objects.create(
        actor=user,
        actor_name=actor_name or (user.get_username() if user else "system"),
        action=action,
        object_type=instance._meta.label,
        object_id=str(instance.pk or ""),
        object_repr=str(instance)[:200],
        before=before,
        after=after,
    )


@transaction.atomic
def audited_create(*, actor: Any, instance: M, m2m: dict[str, list[Any]] | None = None) -> M:
    """Validate, save and audit a new instance (with its many-to-many values)."""
    instance.full_clean()
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    audit_record(
        actor=actor,
        action=f"{instance._meta.model_name}.create",
        instance=instance,
        after=snapshot(instance),
    )
    return instance


@transaction.atomic
def audited_update(
    *,
    actor: Any,
    instance: M,
    data: dict[str, Any],
    m2m: dict[str, list[Any]] | None = None,
    validate: Callable[[M], None] | None = None,
) -> M:
    """Apply field changes under a row lock, validate, save and audit before/after."""
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    before = snapshot(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    if validate:
        validate(locked)
    locked.full_clean()
    locked.save()
    for name, values in (m2m or {}).items():
        getattr(locked, name).set(values)
    after = snapshot(locked)
    if after != before:
        audit_record(
            actor=actor,
            action=f"{locked._meta.model_name}.update",
            instance=locked,
            before=before,
            after=after,
        )
    return locked


@transaction.atomic
def audited_delete(*, actor: Any, instance: models.Model) -> None:
    before = snapshot(instance)
    audit_record(
        actor=actor, action=f"{instance._meta.model_name}.delete", instance=instance, before=before
    )
    instance.delete()
