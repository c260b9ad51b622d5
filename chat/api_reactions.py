"""Reactions in the REST API: ``PUT``/``DELETE /api/v1/messages/{id}/reactions/{reaction}``.

A reaction is a resource of its message, named by one of ``chat.models.REACTIONS``: ``PUT``
sets the caller's, ``DELETE`` clears it. Both are idempotent and both answer the message's full
counts, so a retried request and a late reply leave a client showing the truth. Everything is
``chat.reactions.reaction_set``; errors are rendered by ``core.api.exception_handler``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from chat import reactions
from chat.models import REACTIONS


class ReactionUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ReactionSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(REACTIONS))
    emoji = serializers.CharField(help_text="What to show for it.")
    count = serializers.IntegerField(min_value=1, help_text="Everyone who reacted so.")
    users = ReactionUserSerializer(
        many=True, help_text=f"The first {reactions.NAMES_LISTED} who reacted so, oldest first."
    )


class ReactionsSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    reactions = ReactionSerializer(many=True, help_text="In the fixed order of the reactions; none with count 0.")


REACTION_PARAMETER = OpenApiParameter(
    "reaction", str, OpenApiParameter.PATH, enum=list(REACTIONS), description="Which reaction"
)


class ReactionView(GenericAPIView):
    serializer_class = ReactionsSerializer

    @extend_schema(request=None, responses=ReactionsSerializer, parameters=[REACTION_PARAMETER])
    def put(self, request: Request, message_id: int, reaction: str) -> Response:
        """Set the caller's reaction on a message (members of its conversation; idempotent)."""
        change = reactions.reaction_set(user=request.user, message_id=message_id, reaction=reaction, on=True)
        return Response(reactions.reaction_change_data(change.message))

    @extend_schema(request=None, responses={200: ReactionsSerializer}, parameters=[REACTION_PARAMETER])
    def delete(self, request: Request, message_id: int, reaction: str) -> Response:
        """Clear the caller's reaction on a message (idempotent)."""
        change = reactions.reaction_set(user=request.user, message_id=message_id, reaction=reaction, on=False)
        return Response(reactions.reaction_change_data(change.message))
