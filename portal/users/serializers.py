from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.users.models import Role, User


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "is_active"]


class UserCreateInputSerializer(serializers.Serializer[Any]):
    """A new user; it is active from the start."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class UserInputSerializer(UserCreateInputSerializer):
    """Changes of a user, who may also be deactivated."""

    is_active = serializers.BooleanField(required=False)
