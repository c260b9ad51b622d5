from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import PersonalTokenAuthentication, ProviderAccessTokenAuthentication


def _auth_kind(request: Request) -> str:
    if isinstance(request.successful_authenticator, PersonalTokenAuthentication):
        return "api_token"
    if isinstance(request.successful_authenticator, ProviderAccessTokenAuthentication):
        return "access_token"
    return "session"


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    groups = serializers.ListField(child=serializers.CharField())
    is_staff = serializers.BooleanField()
    is_superuser = serializers.BooleanField()
    auth = serializers.ChoiceField(choices=["session", "api_token", "access_token"])


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    """The signed-in user, their groups, and how this request was authenticated."""
    user = request.user
    return Response(
        {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "auth": _auth_kind(request),
        }
    )
