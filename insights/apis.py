"""The cost explorer in the REST API: /api/v1/costs/, its CSV, options and values."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import BillingView, Team
from insights.models import TeamScore
from insights.query import CostQuery, is_known_dimension, month_to_date, parse_cost_query
from insights.scores.compute import week_start
from insights.scores.imported import imported_for_team
from insights.scores.recommendations import CATEGORIES, team_recommendations
from insights.selectors import cost_explorer, dimension_values, explorer_options
from insights.serializers import (
    CostAnswerSerializer,
    CostOptionsSerializer,
    CostValuesSerializer,
    RecommendationSerializer,
    TeamScoreSerializer,
    answer_csv,
    answer_json,
)
from portal.core.apis import ScopedAPIMixin
from portal.core.errors import ApplicationError

DIMENSION_PATTERN = (
    r"^(service|account|payer|organization|region|charge_category|usage_type|team|end_customer"
    r"|tag:.+|category:.+)$"
)
VIEW_PARAMETER = OpenApiParameter(
    "view", int, description="A billing view's id: its filters are applied and locked."
)
QUERY_PARAMETERS = [
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="First day; default: this month's 1st."
    ),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, description="Exclusive; default: tomorrow (month to date)."
    ),
    OpenApiParameter("granularity", str, enum=["daily", "monthly"], description="Default daily."),
    OpenApiParameter(
        "metric",
        str,
        enum=["billed_cost", "effective_cost", "list_cost", "resale", "margin"],
        description="Default billed_cost; end customers use resale.",
    ),
    OpenApiParameter(
        "group_by",
        str,
        description="Up to three dimensions, comma separated: service, account, payer (of "
        "record: who pays the bill once billing transfers are in force), organization (whose "
        "account it is), region, charge_category, usage_type, team, end_customer, tag:<key>, "
        "category:<name>.",
    ),
    OpenApiParameter(
        "filter",
        str,
        many=True,
        description="dimension:value, repeatable; values of one dimension are ORed "
        "(tag:team:web, or tag:aws:createdBy=alice for a key holding a colon).",
    ),
    OpenApiParameter("exclude", str, many=True, description="As filter, for costs to leave out."),
    OpenApiParameter(
        "limit", int, description="Top N groups (1-100, default 10); the rest is Others."
    ),
    VIEW_PARAMETER,
]


class CostApiBase(ScopedAPIMixin, APIView):
    """Every role reads; the engine scopes what each one sees. Views are found through
    their own scoping, so an id one may not see answers 404."""

    model = BillingView
    finds_row_by_query = True  # ?view=<id>: 404 when not one this user may see

    def billing_view(self, request: Request) -> BillingView | None:
        raw = request.query_params.get("view")
        if raw in (None, ""):
            return None
        if not raw.isdigit():
            raise ApplicationError(
                "view must be a billing view's id.", code="invalid", field="view"
            )
        return get_object_or_404(self.get_queryset(), pk=int(raw))

    def cost_query(self, request: Request) -> CostQuery:
        return parse_cost_query(dict(request.query_params.lists()), today=timezone.localdate())


class CostApi(CostApiBase):
    """Cost over a period, grouped, with the previous period and the change."""

    @extend_schema(parameters=QUERY_PARAMETERS, responses=CostAnswerSerializer)
    def get(self, request: Request) -> Response:
        view = self.billing_view(request)
        answer = cost_explorer(user=request.user, query=self.cost_query(request), view=view)
        return Response(answer_json(answer))


class CostCsvApi(CostApiBase):
    """The same answer as CSV: one row per group and date, then each group's totals."""

    @extend_schema(parameters=QUERY_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        view = self.billing_view(request)
        query = self.cost_query(request)
        answer = cost_explorer(user=request.user, query=query, view=view)
        response = HttpResponse(answer_csv(answer), content_type="text/csv; charset=utf-8")
        name = f"cost-{query.start}-{query.end}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class CostOptionsApi(CostApiBase):
    """The metrics and dimensions this user may use, and the filters locked for them."""

    @extend_schema(parameters=[VIEW_PARAMETER], responses=CostOptionsSerializer)
    def get(self, request: Request) -> Response:
        return Response(explorer_options(user=request.user, view=self.billing_view(request)))


class CostValuesApi(CostApiBase):
    """The values a dimension has in the period's cost, for filter pickers."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dimension",
                str,
                required=True,
                description="e.g. service, tag:team",
                pattern=DIMENSION_PATTERN,
            ),
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Exclusive."),
            VIEW_PARAMETER,
        ],
        responses=CostValuesSerializer,
    )
    def get(self, request: Request) -> Response:
        dimension = (request.query_params.get("dimension") or "").strip()
        if not is_known_dimension(dimension):
            raise ApplicationError(
                "dimension must name a dimension, e.g. service or tag:team.",
                code="invalid",
                field="dimension",
            )
        query = self.cost_query(request)
        start, end = _period(request, query)
        values = dimension_values(
            user=request.user,
            dimension=dimension,
            start=start,
            end=end,
            view=self.billing_view(request),
        )
        return Response({"dimension": dimension, "values": values})


def _period(request: Request, query: CostQuery) -> tuple[date, date]:
    if request.query_params.get("start") or request.query_params.get("end"):
        return query.start, query.end
    return month_to_date(timezone.localdate())


class TeamScoreApi(ScopedAPIMixin, APIView):
    """A team's weekly efficiency scores, newest first (`?weeks=N`, default 12)."""

    model = Team

    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="How many weeks (1-520).")],
        responses=TeamScoreSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        team = get_object_or_404(self.get_queryset(), pk=pk)
        raw = request.query_params.get("weeks") or "12"
        if not raw.isdigit() or not 1 <= int(raw) <= 520:
            raise ApplicationError("weeks takes 1 to 520.", code="invalid", field="weeks")
        scores = TeamScore.objects.filter(team=team).order_by("-week")[: int(raw)]
        return Response(TeamScoreSerializer(scores, many=True).data)


class TeamRecommendationApi(ScopedAPIMixin, APIView):
    """What the team can change, from its last full week's cost and the recommendations
    imported for it (Cost Optimization Hub), largest saving first."""

    model = Team

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, enum=list(CATEGORIES)),
            OpenApiParameter("owner", str, description="An account id or the team's name."),
            OpenApiParameter(
                "week", OpenApiTypes.DATE, description="A day of the week; default: last full week."
            ),
        ],
        responses=RecommendationSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        team = get_object_or_404(self.get_queryset(), pk=pk)
        category = request.query_params.get("category") or None
        if category is not None and category not in CATEGORIES:
            raise ApplicationError(
                f"category must be one of {', '.join(CATEGORIES)}.",
                code="invalid",
                field="category",
            )
        raw_week = request.query_params.get("week")
        try:
            day = (
                date.fromisoformat(raw_week)
                if raw_week
                else timezone.localdate() - timedelta(days=7)
            )
        except ValueError:
            raise ApplicationError(
                "week must be a date as YYYY-MM-DD.", code="invalid", field="week"
            ) from None
        owner = request.query_params.get("owner") or None
        found = sorted(
            [
                *team_recommendations(team, week_start(day), category=category, owner=owner),
                *imported_for_team(team, category=category, owner=owner),
            ],
            key=lambda r: (-r.monthly_saving, r.owner_account, r.current, r.resource_id or ""),
        )
        return Response(RecommendationSerializer(found, many=True).data)
