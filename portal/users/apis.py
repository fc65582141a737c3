from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.apis import ServiceViewSet
from portal.users.models import User
from portal.users.roles import Role
from portal.users.serializers import (
    TokenRequestSerializer,
    UserCreateInputSerializer,
    UserInputSerializer,
    UserSerializer,
)
from portal.users.services import login_authenticate, user_create, user_update


class TokenObtainApi(APIView):
    """POST username and password, get the user's API token of this tenant."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer(
            "Token",
            {
                "token": serializers.CharField(help_text="Send as `Authorization: Token <key>`."),
                "role": serializers.ChoiceField(choices=Role.choices),
            },
        ),
        summary="Get the API token of a user of this tenant",
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = login_authenticate(request=request._request, **serializer.validated_data)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "role": user.role}, status=status.HTTP_200_OK)


class UserApi(ServiceViewSet):
    model = User
    serializer_class = UserSerializer
    input_serializer_class = UserCreateInputSerializer
    update_input_serializer_class = UserInputSerializer
    create_service = user_create
    update_service = user_update

    def _input(self, request: Request, *, partial: bool = False) -> dict[str, Any]:
        # A new user is active; only a change may deactivate one.
        serializer_class = (
            self.update_input_serializer_class if partial else self.input_serializer_class
        )
        serializer = serializer_class(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
