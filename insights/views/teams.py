"""The page that says which cost is a team's: a value of a cost category."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect

from allocation.models import AllocationResult, CostCategory
from billing.models import Team
from insights.models import TeamCostBinding
from insights.services import team_cost_binding_remove, team_cost_binding_set
from portal.core.forms import FormServiceView

VALUE_CHOICES_LIMIT = 200


class TeamCostBindingForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=CostCategory.objects.none(), help_text="The category that sorts costs to teams."
    )
    value = forms.CharField(
        max_length=200,
        help_text="The category value whose allocated cost, splits included, is this team's.",
    )
    remove = forms.BooleanField(required=False, label="Unbind: the team has no cost")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = CostCategory.objects.visible_to(user)
        if self.data.get("remove"):
            for name in ("category", "value"):
                self.fields[name].required = False


class TeamCostBindingView(FormServiceView):
    model = Team
    form_class = TeamCostBindingForm
    template_name = "insights/team_binding.html"
    success_url_name = "team-list"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self) -> dict[str, Any]:
        binding = TeamCostBinding.objects.filter(team=self.get_object()).first()
        if binding is not None:
            return {"category": binding.category_id, "value": binding.value}
        first = TeamCostBinding.objects.select_related("category").first()
        return {"category": first.category_id} if first else {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["team"] = self.get_object()
        values = (
            AllocationResult.objects.order_by("value")
            .values_list("run__category__name", "value")
            .distinct()[:VALUE_CHOICES_LIMIT]
        )
        context["known_values"] = sorted({value for _, value in values})
        return context

    def perform(self, data: dict[str, Any]) -> Any:
        team = self.get_object()
        if data.get("remove"):
            team_cost_binding_remove(actor=self.request.user, team=team)
            return team
        return team_cost_binding_set(
            actor=self.request.user, team=team, category=data["category"], value=data["value"]
        )

    def redirect_after(self, result: Any) -> HttpResponse:
        return redirect("team-detail", self.get_object().pk)
