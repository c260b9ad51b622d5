"""Demo conversations for `make run`: alice and bob talk directly, in a group, and in stock rooms.

Loading again adds nothing: each conversation is seeded with messages only when it has none.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from chat import services
from chat.models import Conversation, ConversationKind, Message
from trading.models import Stock

GROUP_TITLE = "Anvil watchers"
ROOMS = ("ACME", "NOVA")


def _seed(conversation: Conversation, lines: list[tuple[object, str]], log, label: str) -> None:
    if Message.objects.filter(conversation=conversation).exists():
        return
    for number, (author, body) in enumerate(lines):
        services.message_send(
            user=author, conversation_id=conversation.pk, body=body, client_message_id=f"demo-{number}"
        )
    log(f"{label}: {len(lines)} messages")


@transaction.atomic
def load_demo(log) -> None:
    User = get_user_model()
    alice = User.objects.filter(username="alice").first()
    bob = User.objects.filter(username="bob").first()
    if alice is None or bob is None:
        log("no demo users alice and bob; skipped")
        return
    direct = services.direct_start(user=alice, other_username="bob")
    _seed(
        direct,
        [
            (alice, "Morning! Did you see $ACME opened higher?"),
            (bob, "I did. Thinking of adding to my position before lunch."),
            (alice, "Careful, $NOVA moved 4% yesterday on no news."),
        ],
        log,
        "alice and bob",
    )
    group = Conversation.objects.filter(kind=ConversationKind.GROUP, title=GROUP_TITLE, created_by=alice).first()
    if group is None:
        group = services.group_create(user=alice, title=GROUP_TITLE, member_usernames=["bob"])
    _seed(group, [(alice, "Welcome to the group. Post your $ACME trades here."), (bob, "Will do.")], log, GROUP_TITLE)
    for symbol in ROOMS:
        if not Stock.objects.filter(symbol=symbol).exists():
            continue
        room = services.stock_room_join(user=alice, symbol=symbol)
        services.stock_room_join(user=bob, symbol=symbol)
        _seed(
            room, [(bob, f"Anyone else following ${symbol} today?"), (alice, "Watching the open.")], log, f"${symbol}"
        )
