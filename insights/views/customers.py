"""The end-customer list (`/org/end-customers/`) with each customer's wholesale, resale and
margin this month to date and last month, sortable by each (`?sort=`)."""

from __future__ import annotations

from typing import Any

from django.utils.timezone import localdate

from billing.views.sharing import EndCustomerListView
from insights.customers import SORTS, CustomerLine, customer_figures, sort_lines
from portal.users.roles import TENANT_WIDE_ROLES

# Amount columns sort largest first on the first click; the name A to Z.
COLUMN_HEADS = (
    ("wholesale", "Wholesale"),
    ("resale", "Resale"),
    ("margin", "Margin"),
    ("margin_percent", "Margin %"),
)


class EndCustomerFiguresView(EndCustomerListView):
    """Billing's list, plus figures for the roles that see every customer's cost."""

    def get_queryset(self) -> list[CustomerLine] | Any:  # type: ignore[override]
        customers = super().get_queryset()
        if self.request.user.role not in TENANT_WIDE_ROLES:
            self.figures = None
            return customers
        self.figures = customer_figures(
            user=self.request.user, customers=list(customers), today=localdate()
        )
        return sort_lines(self.figures.lines, self.sort)

    @property
    def sort(self) -> str:
        sort = self.request.GET.get("sort", "name")
        return sort if sort.removeprefix("-") in SORTS else "name"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["figures"] = self.figures
        context["sort"] = self.sort
        context["heads"] = {
            month: [(label, self._link(f"{prefix}{key}")) for key, label in COLUMN_HEADS]
            for month, prefix in (("this", ""), ("last", "last_"))
        }
        context["name_sort"] = self._link("name")
        return context

    def _link(self, key: str) -> dict[str, str]:
        """The column's sort parameter on click, and whether it is the current sort."""
        current = self.sort
        first = "name" if key == "name" else f"-{key}"
        if current == first:
            target = first.removeprefix("-") if first.startswith("-") else f"-{first}"
        else:
            target = first
        state = ""
        if current.removeprefix("-") == key:
            state = "descending" if current.startswith("-") else "ascending"
        return {"sort": target, "state": state}
