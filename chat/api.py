"""The chat REST API (``/api/v1/conversations``, ``/api/v1/messages``).

Views parse input, call one selector or service, and render. Membership is
checked by the selectors and services: a conversation the caller is not a
member of answers 404 ``conversation_not_found`` on every route, like one
that does not exist. Errors are rendered by ``core.api.exception_handler``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from chat import selectors, services
from chat.api_attachments import AttachmentSerializer
from chat.api_reactions import ReactionSerializer
from chat.attachments import MAX_PER_MESSAGE as MAX_ATTACHMENTS
from chat.models import MAX_BODY_LENGTH, MAX_CLIENT_MESSAGE_ID_LENGTH, MAX_TITLE_LENGTH, ConversationKind
from chat.selectors import UNREAD_COUNT_CAP
from core.api import NewestFirstPagination, StrictInputSerializer
from core.errors import ServiceError
from core.inputs import parse_int

INVALID_QUERY = "invalid_query"
UNREAD_COUNT_HELP = (
    f"Messages by others after the read marker, counted up to {UNREAD_COUNT_CAP}: "
    f"{UNREAD_COUNT_CAP} means {UNREAD_COUNT_CAP} or more."
)


MESSAGE_ID_PARAMETER = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
PAGE_PARAMETER = {"type": "integer", "minimum": 1, "maximum": selectors.MAX_PAGE}


def _query_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    number = parse_int(raw)
    if number is None:
        raise ServiceError(INVALID_QUERY, f"{name} must be a message id (a whole number).")
    return number


def _summary(request: Request, conversation_id: int) -> dict[str, Any]:
    summary = selectors.conversation_summary(viewer=request.user, conversation_id=conversation_id)
    return selectors.conversation_summary_data(summary)


# --- serializers (input, and the output shapes for the schema) ------------------------------


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ReplyQuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = AuthorSerializer(allow_null=True)
    excerpt = serializers.CharField(help_text="The start of its text, plain (empty once deleted).")
    deleted = serializers.BooleanField()


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    seq = serializers.IntegerField(min_value=1, help_text="Its place in the conversation: 1, 2, 3, ...")
    author = AuthorSerializer(allow_null=True)
    body = serializers.CharField(help_text="Plain text: always display it escaped.")
    payload = serializers.JSONField(
        allow_null=True,
        help_text='Structured content: a shared fill {"kind": "fill", ...} or position {"kind": "position", ...}.',
    )
    symbols = serializers.ListField(child=serializers.CharField(), help_text="Mentioned stocks the reader may see.")
    client_message_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()
    attachments = AttachmentSerializer(many=True)
    reactions = ReactionSerializer(many=True, help_text="Counts per reaction (none on a deleted message).")
    reply_to = ReplyQuoteSerializer(allow_null=True, help_text="The message this one answers, as it is now.")
    mentions = AuthorSerializer(many=True, help_text="Members named with @username in the body.")


class MemberSerializer(serializers.Serializer):
    user = AuthorSerializer()
    role = serializers.CharField()
    joined_at = serializers.DateTimeField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ConversationKind.choices)
    title = serializers.CharField()
    symbol = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    role = serializers.CharField()
    muted = serializers.BooleanField()
    last_read_message_id = serializers.IntegerField()
    unread_count = serializers.IntegerField(min_value=0, max_value=UNREAD_COUNT_CAP, help_text=UNREAD_COUNT_HELP)
    mention_count = serializers.IntegerField(
        min_value=0, max_value=UNREAD_COUNT_CAP, help_text="Unread messages that mention the caller, capped likewise."
    )
    last_message = MessageSerializer(allow_null=True)
    members = MemberSerializer(many=True)


class ConversationCreateSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=ConversationKind.choices)
    username = serializers.CharField(max_length=150, required=False, help_text="direct: the other person")
    title = serializers.CharField(max_length=MAX_TITLE_LENGTH, required=False, help_text="group: its title")
    members = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=199, help_text="group: usernames"
    )
    symbol = serializers.CharField(max_length=12, required=False, help_text="stock: the stock's symbol")

    def validate(self, data):
        needed = {"direct": "username", "group": "title", "stock": "symbol"}[data["kind"]]
        if needed not in data:
            raise serializers.ValidationError({needed: f"Required for a {data['kind']} conversation."})
        # As the schema's oneOf says: each kind takes only its own fields.
        allowed = CONVERSATION_CREATE_FIELDS[data["kind"]]
        extra = sorted(set(data) - allowed)
        if extra:
            raise serializers.ValidationError(dict.fromkeys(extra, f"Not a field of a {data['kind']} conversation."))
        return data


CONVERSATION_CREATE_FIELDS = {
    "direct": {"kind", "username"},
    "group": {"kind", "title", "members"},
    "stock": {"kind", "symbol"},
}


class DirectCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["direct"])
    username = serializers.CharField(max_length=150, help_text="The other person")


class GroupCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["group"])
    title = serializers.CharField(max_length=MAX_TITLE_LENGTH)
    members = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=199, help_text="Usernames"
    )


class StockRoomJoinSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["stock"])
    symbol = serializers.CharField(max_length=12, help_text="The stock's symbol")


# The schema of POST /conversations: one shape per kind.
ConversationCreateSchema = PolymorphicProxySerializer(
    component_name="ConversationCreate",
    serializers={
        "direct": DirectCreateSerializer,
        "group": GroupCreateSerializer,
        "stock": StockRoomJoinSerializer,
    },
    resource_type_field_name="kind",
)


class ConversationUpdateSerializer(StrictInputSerializer):
    muted = serializers.BooleanField(required=False)


class MemberAddSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150)


# The body's length is the service's rule (body_too_long, as on the socket), not a field error.
BODY_HELP = f"Plain text, at most {MAX_BODY_LENGTH} characters (longer: 400 body_too_long)."


class MessageCreateSerializer(StrictInputSerializer):
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, help_text=BODY_HELP)
    client_message_id = serializers.CharField(max_length=MAX_CLIENT_MESSAGE_ID_LENGTH, required=False)
    fill_id = serializers.IntegerField(required=False, min_value=1, help_text="Share one of your fills.")
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_ATTACHMENTS,
        help_text="Your confirmed attachments to send with the message (400 invalid_attachment otherwise).",
    )
    position_symbol = serializers.CharField(
        required=False, max_length=12, help_text="Share your position in this stock (not with fill_id)."
    )

    reply_to = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The id of a message of this conversation that this one answers (another: 400 invalid_reply_to).",
    )

    def validate(self, data):
        if "fill_id" in data and "position_symbol" in data:
            raise serializers.ValidationError({"position_symbol": "Share a fill or a position, not both."})
        return data


class MessageEditSerializer(StrictInputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False, help_text=BODY_HELP)


class ReadSerializer(StrictInputSerializer):
    message_id = serializers.IntegerField(min_value=0)


class ReadStateSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    last_read_message_id = serializers.IntegerField()
    unread_count = serializers.IntegerField(min_value=0, max_value=UNREAD_COUNT_CAP, help_text=UNREAD_COUNT_HELP)


HistorySerializer = inline_serializer(
    "MessagePage",
    {
        "next": serializers.URLField(allow_null=True, help_text="Newer messages (after the last one)"),
        "previous": serializers.URLField(allow_null=True, help_text="Older messages (before the first one)"),
        "results": MessageSerializer(many=True),
    },
)


# --- views ------------------------------------------------------------------------------------


class ConversationListView(GenericAPIView):
    serializer_class = ConversationSerializer

    @extend_schema(responses=ConversationSerializer(many=True))
    def get(self, request: Request) -> Response:
        summaries = selectors.conversation_list(viewer=request.user)
        return Response([selectors.conversation_summary_data(s) for s in summaries])

    @extend_schema(request=ConversationCreateSchema, responses={201: ConversationSerializer})
    def post(self, request: Request) -> Response:
        form = ConversationCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data["kind"] == ConversationKind.DIRECT:
            conversation = services.direct_start(user=request.user, other_username=data["username"])
        elif data["kind"] == ConversationKind.GROUP:
            conversation = services.group_create(
                user=request.user, title=data["title"], member_usernames=data.get("members", [])
            )
        else:
            conversation = services.stock_room_join(user=request.user, symbol=data["symbol"])
        return Response(_summary(request, conversation.pk), status=status.HTTP_201_CREATED)


class ConversationDetailView(GenericAPIView):
    serializer_class = ConversationSerializer

    def get(self, request: Request, conversation_id: int) -> Response:
        return Response(_summary(request, conversation_id))

    @extend_schema(request=ConversationUpdateSerializer)
    def patch(self, request: Request, conversation_id: int) -> Response:
        """Change the caller's settings of the conversation; fields left out stay as they are."""
        form = ConversationUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if "muted" in form.validated_data:
            services.conversation_set_muted(
                user=request.user, conversation_id=conversation_id, muted=form.validated_data["muted"]
            )
        return Response(_summary(request, conversation_id))

    def delete(self, request: Request, conversation_id: int) -> Response:
        """Leave the conversation."""
        services.conversation_leave(user=request.user, conversation_id=conversation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(GenericAPIView):
    serializer_class = MemberSerializer

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request: Request, conversation_id: int) -> Response:
        members = selectors.member_list(viewer=request.user, conversation_id=conversation_id)
        return Response([selectors.member_data(m) for m in members])

    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer})
    def post(self, request: Request, conversation_id: int) -> Response:
        form = MemberAddSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        membership = services.member_add(
            actor=request.user, conversation_id=conversation_id, username=form.validated_data["username"]
        )
        return Response(selectors.member_data(membership), status=status.HTTP_201_CREATED)


class MemberDetailView(GenericAPIView):
    serializer_class = MemberSerializer

    def delete(self, request: Request, conversation_id: int, user_id: int) -> Response:
        services.member_remove(actor=request.user, conversation_id=conversation_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListView(GenericAPIView):
    serializer_class = MessageSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("before", MESSAGE_ID_PARAMETER, description="Messages older than this id"),
            OpenApiParameter("after", MESSAGE_ID_PARAMETER, description="Messages newer than this id (oldest first)"),
            OpenApiParameter("limit", PAGE_PARAMETER, description=f"default {selectors.DEFAULT_PAGE}"),
            OpenApiParameter("first", PAGE_PARAMETER, description="Same as limit"),
        ],
        responses=HistorySerializer,
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        before, after = _query_id(request, "before"), _query_id(request, "after")
        if before is not None and after is not None:
            raise ServiceError(INVALID_QUERY, "Give before or after, not both.")
        raw_limit = request.query_params.get("limit", request.query_params.get("first"))
        limit = selectors.DEFAULT_PAGE
        if raw_limit is not None:
            limit = parse_int(raw_limit, minimum=1, maximum=selectors.MAX_PAGE)
            if limit is None:
                raise ServiceError(INVALID_QUERY, f"limit must be a whole number from 1 to {selectors.MAX_PAGE}.")
        page = selectors.message_history(
            viewer=request.user, conversation_id=conversation_id, before=before, after=after, limit=limit
        )
        url = reverse("api-chat-messages", kwargs={"conversation_id": conversation_id}, request=request)
        first, last = (page.messages[0].pk, page.messages[-1].pk) if page.messages else (None, None)
        newer = None
        if page.has_newer and last is not None:
            newer = f"{url}?after={last}&limit={limit}"
        older = None
        if page.has_older and first is not None:
            older = f"{url}?before={first}&limit={limit}"
        return Response(
            {
                "next": newer,
                "previous": older,
                "results": selectors.messages_data(viewer=request.user, messages=page.messages),
            }
        )

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer, 200: MessageSerializer})
    def post(self, request: Request, conversation_id: int) -> Response:
        """Send a message (or share a fill with ``fill_id``, a position with ``position_symbol``).
        Resending the same ``client_message_id`` answers 200 with the message already saved."""
        form = MessageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        common = {
            "user": request.user,
            "conversation_id": conversation_id,
            "body": data.get("body", ""),
            "client_message_id": data.get("client_message_id"),
        }
        if "reply_to" in data:
            common["reply_to"] = data["reply_to"]
        if "fill_id" in data:
            if "attachment_ids" in data:
                raise ServiceError("invalid_attachment", "A shared fill carries no attachments.")
            common["payload"] = services.fill_payload(user=request.user, fill_id=data["fill_id"])
        elif "position_symbol" in data:
            if "attachment_ids" in data:
                raise ServiceError("invalid_attachment", "A shared position carries no attachments.")
            common["payload"] = services.position_payload(user=request.user, symbol=data["position_symbol"])
        else:
            common["attachment_ids"] = data.get("attachment_ids")
        sent = services.message_submit(**common)
        code = status.HTTP_200_OK if sent.replayed else status.HTTP_201_CREATED
        return Response(selectors.messages_data(viewer=request.user, messages=[sent.message])[0], status=code)


class MessageDetailView(GenericAPIView):
    serializer_class = MessageSerializer

    def get(self, request: Request, message_id: int) -> Response:
        message = selectors.message_get(viewer=request.user, message_id=message_id)
        return Response(selectors.messages_data(viewer=request.user, messages=[message])[0])

    @extend_schema(request=MessageEditSerializer)
    def patch(self, request: Request, message_id: int) -> Response:
        """Edit the message's body (author only); without ``body`` nothing changes."""
        form = MessageEditSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if "body" in form.validated_data:
            message = services.message_edit(user=request.user, message_id=message_id, body=form.validated_data["body"])
        else:
            message = selectors.message_get(viewer=request.user, message_id=message_id)
        return Response(selectors.messages_data(viewer=request.user, messages=[message])[0])

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "moderate",
                {"type": "boolean"},
                description="Staff: delete another member's message (ignored for anyone else).",
            )
        ]
    )
    def delete(self, request: Request, message_id: int) -> Response:
        moderate = request.query_params.get("moderate") in ("true", "1")
        services.message_delete(user=request.user, message_id=message_id, moderate=moderate)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReadView(GenericAPIView):
    serializer_class = ReadStateSerializer

    @extend_schema(request=ReadSerializer, responses=ReadStateSerializer)
    def post(self, request: Request, conversation_id: int) -> Response:
        form = ReadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        membership = services.conversation_mark_read(
            user=request.user, conversation_id=conversation_id, message_id=form.validated_data["message_id"]
        )
        return Response(
            {
                "conversation_id": membership.conversation_id,
                "last_read_message_id": membership.last_read_message_id,
                "unread_count": selectors.unread_count(viewer=request.user, conversation_id=conversation_id),
            }
        )


class MessageSearchView(ListAPIView):
    serializer_class = MessageSerializer
    pagination_class = NewestFirstPagination

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True)])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = self.request.query_params.get("q")
        if query is None:
            raise ServiceError(INVALID_QUERY, "q (the words to search for) is required.")
        return selectors.message_search(viewer=self.request.user, query=query)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(selectors.messages_data(viewer=request.user, messages=list(page)))
