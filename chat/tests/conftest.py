"""Fixtures for the chat tests: three people and their conversations."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from chat import services
from trading.tests.conftest import new_stock


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_world(make_user) -> SimpleNamespace:
    """owner (alice) and member (bob) share a group and a direct conversation; outsider (carol)
    shares nothing. ACME is public, SECR is visible to the premium group only."""
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    acme = new_stock("ACME")
    secret = new_stock("SECR")
    premium = Group.objects.create(name="premium")
    secret.visible_to_groups.add(premium)
    group = services.group_create(user=alice, title="Traders", member_usernames=["bob"])
    direct = services.direct_start(user=alice, other_username="bob")
    return SimpleNamespace(
        owner=alice, member=bob, outsider=carol, acme=acme, secret=secret, premium=premium, group=group, direct=direct
    )


@pytest.fixture
def world(make_user):
    return make_world(make_user)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def pile_of_messages(author, conversation, count: int) -> None:
    """``count`` messages by ``author`` written straight to the table (for counts, not delivery),
    numbered on from the conversation's ``last_seq`` as ``message_send`` would, and dated an hour
    ago (they never count against the author's sending rate, which is counted in the cache)."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.models import Conversation, Message

    start = Conversation.objects.get(pk=conversation.pk).last_seq
    made = Message.objects.bulk_create(
        Message(conversation=conversation, seq=start + n, author=author, body=f"m{n}") for n in range(1, count + 1)
    )
    Message.objects.filter(pk__in=[m.pk for m in made]).update(created_at=timezone.now() - timedelta(hours=1))
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=start + count)
