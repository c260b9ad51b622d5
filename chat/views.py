"""Chat pages: the conversation list, one conversation with its composer, new conversations.

Thin: reads through ``chat.selectors`` (members only; anyone else gets a 404,
as for an id that does not exist), writes through ``chat.services``. Message
bodies are plain text and are always rendered escaped.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from chat import selectors, services
from chat.models import Conversation, ConversationKind, MemberRole
from core.errors import NotFound, ServiceError
from core.inputs import parse_id
from core.views import service_errors

MAX_BODY_LENGTH = 4000
# A refused form is sent back with what was typed, up to this much of each field.
MAX_FIELD_ECHO = 2000


def conversation_title(summary: selectors.ConversationSummary, viewer) -> str:
    conversation = summary.conversation
    if conversation.kind == ConversationKind.DIRECT:
        others = [m["user"]["username"] for m in summary.members if m["user"]["id"] != viewer.pk]
        return others[0] if others else "Just you"
    return conversation.title or "Untitled group"


def _listing(viewer) -> list[dict]:
    return [
        {"summary": summary, "title": conversation_title(summary, viewer)}
        for summary in selectors.conversation_list(viewer=viewer)
    ]


def _older_than(request: HttpRequest) -> int | None:
    return parse_id(request.GET.get("before"))


def _render(
    request: HttpRequest,
    *,
    conversation_id: int | None = None,
    draft: str = "",
    status: int = 200,
    forms: dict | None = None,
    read_marker: int | None = None,
):
    """The chat page; ``forms`` brings a refused new-conversation form back as it was typed.

    Raises ``NotFound`` for a conversation the viewer is not in (the views show the 404 page)."""
    listing = _listing(request.user)
    context: dict = {
        "nav": "chat",
        "conversations": listing,
        "current": None,
        "draft": draft,
        "read_marker": read_marker,
        **(forms or {}),
    }
    if conversation_id is not None:
        summary = selectors.conversation_summary(viewer=request.user, conversation_id=conversation_id)
        context.update(pane_context(request.user, conversation_id, before=_older_than(request)))
        context.update(
            current=summary,
            current_title=conversation_title(summary, request.user),
            is_owner=summary.membership.role == MemberRole.OWNER,
        )
    return render(request, "chat/chat.html", context, status=status)


def pane_context(viewer, conversation_id: int, *, before: int | None = None, limit: int | None = None) -> dict:
    """What ``chat/_pane.html`` needs: a page of messages (the newest unless ``before``), the
    stocks they mention that the viewer may see, and a fresh ``client_message_id`` for the composer.
    Raises ``NotFound`` for non-members."""
    extra = {} if limit is None else {"limit": limit}
    page = selectors.message_history(viewer=viewer, conversation_id=conversation_id, before=before, **extra)
    mentioned = {symbol for message in page.messages for symbol in selectors.message_symbols(message)}
    return {
        "page": page,
        # The mentioned stocks this reader may see: their mentions become links.
        "linked_symbols": selectors.visible_symbols(viewer=viewer, symbols=mentioned),
        "last_message_id": page.messages[-1].pk if page.messages else 0,
        "client_message_id": uuid.uuid4().hex,
        "max_body_length": MAX_BODY_LENGTH,
    }


@login_required
@require_GET
def chat_index(request: HttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_GET
@service_errors
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    read_marker = None
    if _older_than(request) is None:
        # Where the reader had read up to: the page draws its "new messages" line there.
        read_marker = selectors.membership_get(
            viewer=request.user, conversation_id=conversation_id
        ).last_read_message_id
        newest = selectors.message_history(viewer=request.user, conversation_id=conversation_id, limit=1).messages
        if newest:
            # Showing the newest page marks the conversation read, as it is then on screen.
            services.conversation_mark_read(user=request.user, conversation_id=conversation_id, message_id=newest[0].pk)
    return _render(request, conversation_id=conversation_id, read_marker=read_marker)


@login_required
@require_POST
@service_errors
def message_post(request: HttpRequest, conversation_id: int) -> HttpResponse:
    body = request.POST.get("body", "")
    try:
        services.message_send(
            user=request.user,
            conversation_id=conversation_id,
            body=body,
            client_message_id=request.POST.get("client_message_id") or None,
        )
    except NotFound:
        raise  # the 404 page (service_errors)
    except ServiceError as exc:
        # The draft comes back in the composer: nothing typed is lost.
        messages.error(request, exc.detail)
        return _render(request, conversation_id=conversation_id, draft=body[: MAX_BODY_LENGTH * 2], status=400)
    return _back(request, conversation_id)


def _back(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Back to the page the form was on: the conversation, or the stock page showing its room."""
    if request.POST.get("next") == "stock":
        symbol = Conversation.objects.filter(pk=conversation_id).values_list("stock__symbol", flat=True).first()
        if symbol:
            return redirect("stock_detail", symbol=symbol)
    return redirect("conversation", conversation_id=conversation_id)


@login_required
@require_POST
def direct_new(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "")
    try:
        conversation = services.direct_start(user=request.user, other_username=username)
    except ServiceError as exc:
        form = {"username": username[:MAX_FIELD_ECHO], "error": exc.detail}
        return _render(request, status=400, forms={"new_direct": form})
    return redirect("conversation", conversation_id=conversation.pk)


@login_required
@require_POST
def group_new(request: HttpRequest) -> HttpResponse:
    title, members = request.POST.get("title", ""), request.POST.get("members", "")
    names = [name.strip() for name in members.replace(",", " ").split() if name.strip()]
    try:
        conversation = services.group_create(user=request.user, title=title, member_usernames=names)
    except ServiceError as exc:
        form = {
            "title": title[:MAX_FIELD_ECHO],
            "members": members[:MAX_FIELD_ECHO],
            "error": exc.detail,
            "field": "title" if exc.detail == services.GROUP_TITLE_REQUIRED else "members",
        }
        return _render(request, status=400, forms={"new_group": form})
    return redirect("conversation", conversation_id=conversation.pk)


@login_required
@require_POST
@service_errors
def stock_room(request: HttpRequest, symbol: str) -> HttpResponse:
    conversation = services.stock_room_join(user=request.user, symbol=symbol)
    return _back(request, conversation.pk)


def _to_conversation(request: HttpRequest, conversation_id: int, **_: object) -> HttpResponse:
    return redirect("conversation", conversation_id=conversation_id)


# A conversation the user is not in is a 404, as everywhere; any other refusal (a member
# who does not exist, an owner leaving alone...) is shown on the conversation's page.
_refusals_on_the_conversation = service_errors(back=_to_conversation, missing={selectors.CONVERSATION_NOT_FOUND})


@login_required
@require_POST
@_refusals_on_the_conversation
def member_add(request: HttpRequest, conversation_id: int) -> HttpResponse:
    username = request.POST.get("username", "").strip()
    membership = services.member_add(actor=request.user, conversation_id=conversation_id, username=username)
    messages.success(request, f"{membership.user.get_username()} was added.")
    return _to_conversation(request, conversation_id)


@login_required
@require_POST
@_refusals_on_the_conversation
def member_remove(request: HttpRequest, conversation_id: int, user_id: int) -> HttpResponse:
    services.member_remove(actor=request.user, conversation_id=conversation_id, user_id=user_id)
    messages.success(request, "The member was removed.")
    return _to_conversation(request, conversation_id)


@login_required
@require_POST
@_refusals_on_the_conversation
def conversation_leave(request: HttpRequest, conversation_id: int) -> HttpResponse:
    services.conversation_leave(user=request.user, conversation_id=conversation_id)
    messages.success(request, "You left the conversation.")
    return redirect("chat")
