"""Writes to billing views: saved cost filters shared read-only with named users."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    OrganizationalUnit,
)
from billing.models.views import MAX_VIEW_PAYERS
from billing.services._common import (
    model_errors_as_application_errors,
    refuse_unknown_fields,
    require_payers,
)
from portal.audit.services import audited_create, audited_update
from portal.core.errors import ApplicationError
from portal.users.models import Role, User

VIEW_FIELDS = frozenset({"name", "tags", "services"})
VIEW_RELATIONS = frozenset({"payers", "accounts", "ous", "shared_with"})
VIEW_CRITERIA = ("payers", "accounts", "ous")


def _check_payers(payers: Iterable[Account]) -> list[Account]:
    chosen = list(dict.fromkeys(payers))
    if len(chosen) > MAX_VIEW_PAYERS:
        raise ApplicationError(
            f"A billing view can hold at most {MAX_VIEW_PAYERS} payers; {len(chosen)} were chosen.",
            code="too_many_payers",
            field="payers",
        )
    return require_payers(chosen)


def _check_tags(tags: Any) -> dict[str, list[str]]:
    valid = isinstance(tags, dict) and all(
        isinstance(key, str)
        and key.strip()
        and isinstance(values, list)
        and all(isinstance(v, str) for v in values)
        for key, values in tags.items()
    )
    if not valid:
        raise ApplicationError(
            'Tags are an object of tag key to a list of values, such as {"team": ["web"]}; '
            "an empty list means any value.",
            code="invalid_tags",
            field="tags",
        )
    return dict(tags)


def _check_services(services: Any) -> list[str]:
    if not (isinstance(services, list) and all(isinstance(s, str) for s in services)):
        raise ApplicationError(
            'Services are a list of service names, such as ["AmazonEC2"].',
            code="invalid_services",
            field="services",
        )
    return list(services)


def _checked(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Split into field values and many-to-many lists, each checked."""
    fields = {k: v for k, v in data.items() if k in VIEW_FIELDS}
    m2m = {k: list(v) for k, v in data.items() if k in VIEW_RELATIONS}
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    if "tags" in fields:
        fields["tags"] = _check_tags(fields["tags"])
    if "services" in fields:
        fields["services"] = _check_services(fields["services"])
    if "payers" in m2m:
        m2m["payers"] = _check_payers(m2m["payers"])
    return fields, m2m


# Sharing with end customers -----------------------------------------------------------


@dataclass(frozen=True)
class _Shown:
    """A payer, account or OU account a view's criterion shows, and the accounts it covers."""

    field: str
    label: str
    accounts: frozenset[int]


def _label(account: Account) -> str:
    return f"{account.account_id} ({account.name})" if account.name else account.account_id


def _paid_for(payers: list[Account]) -> dict[int, list[Account]]:
    """Per payer, the payers whose bills it pays under a binding transfer, at any time and
    along chains (A to B to C: C's bill carries A's and B's accounts)."""
    sources: dict[int, set[int]] = defaultdict(set)
    for source, destination in BillingTransfer.objects.binding().values_list(
        "source_id", "destination_id"
    ):
        sources[destination].add(source)
    found: dict[int, set[int]] = {}
    for payer in payers:
        seen: set[int] = set()
        frontier = {payer.pk}
        while frontier:
            frontier = {s for pk in frontier for s in sources[pk]} - seen - {payer.pk}
            seen |= frontier
        found[payer.pk] = seen
    rows = Account.objects.in_bulk({pk for pks in found.values() for pk in pks})
    return {pk: sorted((rows[s] for s in pks), key=_label) for pk, pks in found.items()}


def _shown(criteria: dict[str, list[Any]]) -> list[_Shown]:
    """What the criteria show: a payer its bill (its whole organization, and the
    organizations whose bills it pays), an OU every account in it and below, an account
    itself."""
    payers: list[Account] = criteria["payers"]
    paid_for = _paid_for(payers)
    members: dict[int, set[int]] = {pk: {pk} for pk in paid_for}
    members |= {s.pk: {s.pk} for sources in paid_for.values() for s in sources}
    for pk, payer_pk in Account.objects.filter(
        organization__management_account__in=list(members)
    ).values_list("pk", "organization__management_account"):
        members[payer_pk].add(pk)
    shown = []
    for payer in payers:
        shown.append(_Shown("payers", _label(payer), frozenset(members[payer.pk])))
        shown += [
            _Shown(
                "payers", f"{_label(s)}, whose bill {_label(payer)} pays", frozenset(members[s.pk])
            )
            for s in paid_for[payer.pk]
        ]
    shown += [_Shown("accounts", _label(a), frozenset({a.pk})) for a in criteria["accounts"]]
    for unit in criteria["ous"]:
        inside = Account.objects.filter(ou__in=unit.descendant_ids()).order_by("account_id")
        shown += [
            _Shown("ous", f"{_label(a)} in OU {unit.path}", frozenset({a.pk})) for a in inside
        ]
    return shown


def _customer_accounts(customer: EndCustomer) -> frozenset[int]:
    """The customer's accounts, its payers and every member of its payers' organizations."""
    payers = customer.payers.values("pk")
    rows = Account.objects.filter(
        Q(pk__in=customer.accounts.values("pk"))
        | Q(pk__in=payers)
        | Q(organization__management_account__in=payers)
    )
    return frozenset(rows.values_list("pk", flat=True))


def _names(customers: Iterable[EndCustomer]) -> str:
    return " and ".join(sorted(str(c) for c in customers))


def _error_field(changed: set[str], criterion: str | None = None) -> str:
    """The field a refusal belongs on: the users shared with, or the criterion changed."""
    if "shared_with" in changed:
        return "shared_with"
    if criterion in changed:
        return criterion
    return next((c for c in VIEW_CRITERIA if c in changed), "shared_with")


def _fitting_customers(
    reader: Any, shown: list[_Shown] | None, *, name: str, changed: set[str], joined: str
) -> dict[int, EndCustomer]:
    """The reader's customers that own everything `shown` (None: every account); refused
    if none does.

    `joined` tells, if not empty, whom the view is shown to already.
    """
    customers = list(EndCustomer.objects.filter(viewers=reader))
    if not customers:
        raise ApplicationError(
            f"{reader} is an end-customer user of no end customer; make them a viewer of "
            f"their customer before sharing a view with them.",
            code="no_end_customer",
            field=_error_field(changed),
        )
    if shown is None:
        raise ApplicationError(
            f"{name!r} covers every account: limit the view to {_names(customers)}'s "
            f"accounts or payers first, then share it with {reader}.",
            code="view_covers_everything",
            field=_error_field(changed),
        )
    outside: dict[int, list[_Shown]] = {}
    for customer in customers:
        owned = _customer_accounts(customer)
        outside[customer.pk] = [s for s in shown if not s.accounts <= owned]
    fitting = {c.pk: c for c in customers if not outside[c.pk]}
    if fitting:
        return fitting
    customer = min(customers, key=lambda c: len(outside[c.pk]))
    items = outside[customer.pk]
    whose = "it is" if len(items) == 1 else "they are"
    message = (
        f"{customer} cannot be shown {', '.join(s.label for s in items)}: {whose} not {customer}'s"
    )
    raise ApplicationError(
        f"{message} ({joined})." if joined else f"{message}.",
        code="not_the_customers",
        field=_error_field(changed, items[0].field),
    )


def _refuse_showing_others(
    *,
    name: str,
    criteria: dict[str, list[Any]],
    shared_with: Sequence[Any],
    already: frozenset[int],
    changed: Iterable[str],
) -> None:
    """Refuse a view that would show an end-customer user what is not their customer's.

    Every payer, account and OU account must belong to one customer of every end-customer
    user it is shared with, the same customer for all of them. `already` are the users it
    was shared with before this change; `changed` the relations this change sets, to put
    the error on the field the person changed.
    """
    readers = sorted(
        (u for u in shared_with if getattr(u, "role", None) == Role.END_CUSTOMER),
        key=lambda u: (u.pk not in already, u.get_username()),
    )
    if not readers:
        return
    touched = set(changed)
    shown = None if not any(criteria.values()) else _shown(criteria)
    common: dict[int, EndCustomer] = {}
    joined = ""
    for reader in readers:
        fitting = _fitting_customers(reader, shown, name=name, changed=touched, joined=joined)
        if not joined:
            state = "already shared" if reader.pk in already else "shared"
            common = fitting
            joined = (
                f"{name!r} is {state} with {reader} of {_names(fitting.values())}, and a view "
                f"shows end customers one customer's costs"
            )
        elif not common.keys() & fitting.keys():
            raise ApplicationError(
                f"{joined}: it cannot also be shared with {reader} of {_names(fitting.values())}.",
                code="other_customers_view",
                field=_error_field(touched),
            )
        else:
            common = {pk: c for pk, c in common.items() if pk in fitting}


@transaction.atomic
def billing_view_create(
    *,
    actor: Any,
    name: str,
    payers: Iterable[Account] = (),
    accounts: Iterable[Account] = (),
    ous: Iterable[OrganizationalUnit] = (),
    tags: dict[str, list[str]] | None = None,
    services: list[str] | None = None,
    shared_with: Iterable[User] = (),
) -> BillingView:
    """A view owned by `actor`; the users in `shared_with` may read it, not change it.

    End-customer users may only be given a view limited to their own customer's payers,
    accounts or OUs.
    """
    if not isinstance(actor, User):
        raise ApplicationError("A billing view needs a user as its owner.", code="owner_required")
    fields, m2m = _checked(
        {
            "name": name,
            "tags": {} if tags is None else tags,
            "services": [] if services is None else services,
            "payers": payers,
            "accounts": accounts,
            "ous": ous,
            "shared_with": shared_with,
        }
    )
    _refuse_showing_others(
        name=fields["name"],
        criteria={c: m2m[c] for c in VIEW_CRITERIA},
        shared_with=m2m["shared_with"],
        already=frozenset(),
        changed=VIEW_RELATIONS,
    )
    view = BillingView(owner=actor, **fields)
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=view, m2m=m2m)


@transaction.atomic
def billing_view_update(*, actor: Any, instance: BillingView, **data: Any) -> BillingView:
    """Change name, payers, accounts, ous, tags, services or shared_with.

    Only the owner or an admin may; the users it is shared with only read it. A change
    that would show an end-customer user it is shared with another customer's accounts
    is refused, as sharing it would be.
    """
    refuse_unknown_fields(data, VIEW_FIELDS | VIEW_RELATIONS, "billing view")
    is_owner = getattr(actor, "pk", None) == instance.owner_id
    if not (is_owner or getattr(actor, "role", None) == Role.ADMIN):
        raise ApplicationError(
            f"Only the owner of {instance.name!r} or an admin may change it.", code="forbidden"
        )
    fields, m2m = _checked(data)
    if m2m:
        # Locked first, so the users it is shared with cannot change between check and save.
        locked = BillingView.objects.select_for_update().get(pk=instance.pk)
        current = {
            name: list(getattr(locked, name).all()) for name in (*VIEW_CRITERIA, "shared_with")
        }
        # A form sends every field: what matters (and where a refusal goes) is what changes.
        changed = [name for name in m2m if set(m2m[name]) != set(current[name])]
        if changed:
            final = {**current, **m2m}
            _refuse_showing_others(
                name=fields.get("name", locked.name),
                criteria={c: final[c] for c in VIEW_CRITERIA},
                shared_with=final["shared_with"],
                already=frozenset(u.pk for u in current["shared_with"]),
                changed=changed,
            )
    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=instance, data=fields, m2m=m2m)
