"""Demo conversations: alice and bob talk directly, in a group and in stock rooms; loading again adds nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from chat import selectors
from chat.models import Conversation, ConversationKind, Membership, Message

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Conversation.objects.order_by("id").values_list("kind", "title", "stock__symbol")),
        Membership.objects.count(),
        list(Message.objects.order_by("id").values_list("id", "body")),
    )


def test_demo_conversations_load_once(settings):
    settings.DEBUG = True
    call_command("load_demo_data", verbosity=0)
    first = snapshot()
    kinds = sorted(kind for kind, _, _ in first[0])
    assert kinds == [ConversationKind.DIRECT, ConversationKind.GROUP, ConversationKind.STOCK, ConversationKind.STOCK]
    assert {symbol for _, _, symbol in first[0] if symbol} == {"ACME", "NOVA"}
    call_command("load_demo_data", verbosity=0)
    assert snapshot() == first
    bob = get_user_model().objects.get(username="bob")
    summaries = selectors.conversation_list(viewer=bob)
    assert len(summaries) == 4
    assert all(summary.last_message is not None for summary in summaries)
    direct = next(s for s in summaries if s.conversation.kind == ConversationKind.DIRECT)
    assert direct.last_message["symbols"] == ["NOVA"]
