"""An end customer's logins in the REST API: /api/v1/end-customers/<id>/users/."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.apis import CUSTOMER_WRITERS
from billing.models import EndCustomer
from billing.services.customer_access import (
    customer_login_create,
    customer_login_link,
    customer_login_remove,
    customer_logins,
)
from portal.api_schema import ERROR_DESCRIPTIONS, ErrorSerializer
from portal.core.apis import ScopedAPIMixin
from portal.core.errors import ApplicationError
from portal.users.models import User
from portal.users.roles import TENANT_WIDE_ROLES


class CustomerLoginSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "is_active", "last_login"]


class CustomerLoginCreatedSerializer(CustomerLoginSerializer):
    invitation_url = serializers.CharField(
        allow_null=True,
        help_text="The one-time link to choose the password, when none was given; "
        "also sent to the login's email address.",
    )

    class Meta(CustomerLoginSerializer.Meta):
        fields = [*CustomerLoginSerializer.Meta.fields, "invitation_url"]


class CustomerLoginInputSerializer(serializers.Serializer[Any]):
    """Either `user` (an existing end-customer login to link) or a new login's `username`."""

    user = serializers.IntegerField(
        required=False, min_value=1, help_text="An existing end-customer login to link."
    )
    username = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=256,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Without one, the login is invited: the answer holds a link to choose it.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user" in attrs) == bool(attrs.get("username")):
            raise ApplicationError(
                "Send either user (a login to link) or username (a new login).",
                code="invalid",
                field="username" if "user" not in attrs else "user",
            )
        if "user" in attrs and len(attrs) > 1:
            extra = ", ".join(sorted(set(attrs) - {"user"}))
            raise ApplicationError(
                f"A linked login keeps its own details; leave out {extra}.",
                code="invalid",
                field="user",
            )
        return attrs


class CustomerLoginApiBase(ScopedAPIMixin, APIView):
    """Finance reads; admins and reseller admins write. Other roles are refused (403)."""

    model = EndCustomer
    write_roles = CUSTOMER_WRITERS
    read_roles = TENANT_WIDE_ROLES

    def customer(self, pk: int) -> EndCustomer:
        return get_object_or_404(self.get_queryset(), pk=pk)


class CustomerLoginApi(CustomerLoginApiBase):
    @extend_schema(
        responses=CustomerLoginSerializer(many=True),
        summary="List the logins that see an end customer",
    )
    def get(self, request: Request, pk: int) -> Response:
        logins = customer_logins(self.customer(pk))
        return Response(CustomerLoginSerializer(logins, many=True).data)

    @extend_schema(
        request=CustomerLoginInputSerializer,
        responses={
            201: CustomerLoginCreatedSerializer,
            415: OpenApiResponse(ErrorSerializer, description="A body that is not JSON or a form."),
        },
        summary="Give a login access to an end customer",
        description=(
            "With `user`: link an existing end-customer login (one that sees no other "
            "customer). With `username`: create an end-customer login of this customer, with "
            "`password`, or invited by a one-time link (`invitation_url`, also mailed)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        serializer = CustomerLoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "user" in data:
            user = _user(request, data["user"])
            linked = customer_login_link(actor=request.user, customer=customer, user=user)
            body = {**CustomerLoginSerializer(linked).data, "invitation_url": None}
            return Response(body, status=status.HTTP_201_CREATED)
        created = customer_login_create(
            actor=request.user,
            customer=customer,
            site_url=request.build_absolute_uri("/"),
            **data,
        )
        url = created.invitation.url if created.invitation else None
        body = {**CustomerLoginSerializer(created.user).data, "invitation_url": url}
        return Response(body, status=status.HTTP_201_CREATED)


class CustomerLoginDetailApi(CustomerLoginApiBase):
    @extend_schema(
        responses={
            204: None,
            400: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS["400"]),
        },
        summary="Remove a login's access to an end customer",
        description="A login left without a customer is deactivated and its API tokens "
        "revoked. Refused (400) for a user who is not an end-customer login of this customer.",
    )
    def delete(self, request: Request, pk: int, user_id: int) -> Response:
        customer = self.customer(pk)
        customer_login_remove(actor=request.user, customer=customer, user=_user(request, user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _user(request: Request, pk: int) -> User:
    return get_object_or_404(User.objects.visible_to(request.user), pk=pk)
