"""Racing requests on PostgreSQL with real threads: one message per client id, one direct conversation per pair."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from chat import services
from chat.models import Conversation, Message
from chat.tests.conftest import make_world
from core.cache import redis_cache
from core.errors import ServiceError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def race(func, count: int = THREADS) -> list:
    barrier = threading.Barrier(count)

    def run(n):
        try:
            barrier.wait(timeout=10)
            return func(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_resends_of_one_client_message_id_save_one_message(make_user, settings):
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1000
    world = make_world(make_user)
    results = race(
        lambda n: services.message_submit(
            user=world.member, conversation_id=world.group.pk, body="once", client_message_id="flaky-1"
        )
    )
    assert len({sent.message.pk for sent in results}) == 1
    assert sorted(sent.replayed for sent in results) == [False] + [True] * (THREADS - 1)
    assert Message.objects.filter(client_message_id="flaky-1").count() == 1


def test_concurrent_sends_get_increasing_ids_in_commit_order(make_user, settings):
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1000
    world = make_world(make_user)
    results = race(lambda n: services.message_send(user=world.member, conversation_id=world.group.pk, body=f"{n}"))
    assert len({m.pk for m in results}) == THREADS
    # The conversation lock numbers them 1..n with no holes, in id order.
    rows = list(Message.objects.filter(conversation=world.group).order_by("id").values_list("seq", flat=True))
    assert rows == list(range(1, THREADS + 1))


def test_both_people_starting_a_direct_conversation_at_once_get_the_same_one(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    users = [alice, bob]
    results = race(lambda n: services.direct_start(user=users[n % 2], other_username=users[(n + 1) % 2].username))
    assert len({c.pk for c in results}) == 1
    assert Conversation.objects.filter(kind="direct").count() == 1
    assert results[0].memberships.count() == 2


def test_concurrent_sends_to_many_conversations_stop_at_the_per_user_limit(make_user, settings, redis_url):
    # Each thread sends to its own group, so no conversation lock puts them in line: only the
    # rate limit's own count (Redis, shared as between web processes) keeps them to the limit.
    settings.CACHES = {"default": {**redis_cache(redis_url), "KEY_PREFIX": f"t-{uuid.uuid4().hex}"}}
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 10
    world = make_world(make_user)
    groups = [services.group_create(user=world.owner, title=f"Desk {n}") for n in range(THREADS)]

    def send_three(n: int) -> list[str]:
        codes = []
        for step in range(3):
            try:
                services.message_send(user=world.owner, conversation_id=groups[n].pk, body=f"{n}.{step}")
                codes.append("sent")
            except ServiceError as exc:
                codes.append(exc.code)
        return codes

    codes = [code for codes in race(send_three) for code in codes]
    assert sorted(set(codes)) == ["rate_limited", "sent"]
    assert codes.count("sent") == 10
    assert Message.objects.filter(author=world.owner).count() == 10
