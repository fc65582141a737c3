"""REST shapes of cost categories and their rule versions.

Input serializers only check the shape of a request; the rules themselves are checked by
`allocation.services.ruleset_create`, so the API and other callers refuse alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rest_framework import serializers

from allocation.explain import run_totals
from allocation.models import AllocationRun, CostCategory, RuleSet, RunStatus
from allocation.selectors import ruleset_data
from portal.core.serializers import ExactDecimalField, ExactModelSerializer


class CostCategorySerializer(serializers.ModelSerializer[CostCategory]):
    fallback_value = serializers.CharField(read_only=True)

    class Meta:
        model = CostCategory
        fields = ["id", "name", "default_value", "fallback_value", "created_at"]


class CostCategoryInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    default_value = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RuleSetSerializer(serializers.ModelSerializer[RuleSet]):
    created_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    rules = serializers.SerializerMethodField()
    splits = serializers.SerializerMethodField()

    class Meta:
        model = RuleSet
        fields = ["id", "number", "effective_month", "created_at", "created_by", "rules", "splits"]

    def get_rules(self, ruleset: RuleSet) -> list[dict[str, Any]]:
        """The rules in order, as `ruleset_data` keeps them."""
        return list(ruleset_data(ruleset)["rules"])

    def get_splits(self, ruleset: RuleSet) -> list[dict[str, Any]]:
        return list(ruleset_data(ruleset)["splits"])


class RuleSetInputSerializer(serializers.Serializer[Any]):
    effective_month = serializers.DateField()
    rules = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    splits = serializers.ListField(child=serializers.JSONField(), required=False, default=list)


class PeriodField(serializers.DateField):
    """A billing period as "YYYY-MM" (a full date is read as its month)."""

    def to_internal_value(self, value: Any) -> date:
        text = str(value)
        if len(text) == 7:
            text = f"{text}-01"
        return super().to_internal_value(text).replace(day=1)

    def to_representation(self, value: Any) -> str:
        return f"{value:%Y-%m}"


class RunRequestSerializer(serializers.Serializer[Any]):
    period = PeriodField()


class AmountsSerializer(serializers.Serializer[Any]):
    billed_cost = ExactDecimalField()
    effective_cost = ExactDecimalField()
    list_cost = ExactDecimalField()


class ValueTotalSerializer(AmountsSerializer):
    value = serializers.CharField()


class AllocationRunSerializer(ExactModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    period = PeriodField(read_only=True)
    version = serializers.IntegerField(
        source="ruleset.number", read_only=True, default=None, allow_null=True
    )
    created_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    step = serializers.CharField(source="get_step_display", read_only=True)
    step_number = serializers.SerializerMethodField()

    class Meta:
        model = AllocationRun
        fields = [
            "id",
            "category",
            "category_name",
            "period",
            "ruleset",
            "version",
            "status",
            "step",
            "step_number",
            "steps_total",
            "requested_at",
            "started_at",
            "finished_at",
            "notes",
            "created_by",
        ]

    def get_step_number(self, run: AllocationRun) -> int:
        """The step under way, from 1 to `steps_total`."""
        return int(run.step) + 1


class AllocationRunDetailSerializer(AllocationRunSerializer):
    unallocated_value = serializers.CharField(source="category.fallback_value", read_only=True)
    totals = serializers.SerializerMethodField()

    class Meta(AllocationRunSerializer.Meta):
        fields = [*AllocationRunSerializer.Meta.fields, "unallocated_value", "totals"]

    def get_totals(self, run: AllocationRun) -> Any:
        if run.status != RunStatus.SUCCEEDED:
            return []  # none yet, none of a failed run, or removed when it was replaced
        return ValueTotalSerializer(run_totals(run), many=True).data


class RulePartSerializer(AmountsSerializer):
    rule = serializers.DictField(allow_null=True)
    rows = serializers.IntegerField()


class MovedOutSerializer(AmountsSerializer):
    split = serializers.DictField()
    to = serializers.CharField()


class MovedInSerializer(AmountsSerializer):
    split = serializers.DictField()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField()  # a keyword, so not a class attribute
        return fields


class ValueLineItemSerializer(AmountsSerializer):
    id = serializers.IntegerField()
    day = serializers.DateField()
    sub_account_id = serializers.CharField()
    service_name = serializers.CharField()
    usage_type = serializers.CharField()
    resource_id = serializers.CharField()


class ValueExplanationSerializer(serializers.Serializer[Any]):
    run = serializers.IntegerField()
    value = serializers.CharField()
    total = AmountsSerializer()
    rules = RulePartSerializer(many=True)
    moved_out = MovedOutSerializer(many=True)
    moved_in = MovedInSerializer(many=True)
    largest_line_items = ValueLineItemSerializer(many=True, required=False)


class LineItemPartSerializer(AmountsSerializer):
    value = serializers.CharField()


class LineItemExplanationSerializer(serializers.Serializer[Any]):
    run = serializers.IntegerField()
    line_item = serializers.IntegerField()
    value = serializers.CharField()
    rule = serializers.DictField(allow_null=True)
    amounts = AmountsSerializer()
    day = serializers.DateField()
    sub_account_id = serializers.CharField()
    service_name = serializers.CharField()
    usage_type = serializers.CharField()
    pricing_unit = serializers.CharField()
    split = serializers.DictField(allow_null=True)
    moved_to = LineItemPartSerializer(many=True)


class PreviewRequestSerializer(serializers.Serializer[Any]):
    """A proposed version as POST /versions/ takes it, for one billing period."""

    period = PeriodField()
    rules = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    splits = serializers.ListField(child=serializers.JSONField(), required=False, default=list)


class PreviewRowSerializer(serializers.Serializer[Any]):
    value = serializers.CharField()
    current = AmountsSerializer()
    proposed = AmountsSerializer()
    change = AmountsSerializer()


class PreviewSerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField()
    period = PeriodField()
    current_run = serializers.IntegerField(allow_null=True)
    values = PreviewRowSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
