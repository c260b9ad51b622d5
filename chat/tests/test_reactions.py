"""Reactions: one service for every way in, members only, idempotent, bounded, and in every message read."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import events, reactions, services
from chat.models import REACTIONS, Message, Reaction
from chat.tests.conftest import client_for, pile_of_messages
from chat.tests.test_services import _on_commit, frames
from core.errors import NotFound, ServiceError
from core.realtime import publish as publish_module

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def sent(monkeypatch):
    messages: list[dict] = []
    monkeypatch.setattr(publish_module, "publish", messages.append)
    return messages


@pytest.fixture
def message(world):
    return services.message_send(user=world.owner, conversation_id=world.group.pk, body="the plan")


def react(user, message, name="thumbs_up", on=True):
    return reactions.reaction_set(user=user, message_id=message.pk, reaction=name, on=on)


# --- the service ------------------------------------------------------------------------------


def test_a_reaction_toggles_and_every_member_hears_the_full_counts(world, message, sent):
    with _on_commit():
        change = react(world.member, message)
    assert change.changed
    bob = {"id": world.member.pk, "username": "bob"}
    thumbs = {"name": "thumbs_up", "emoji": "\N{THUMBS UP SIGN}", "count": 1, "users": [bob]}
    assert frames(sent) == [
        {
            "type": "chat.message.reactions",
            "v": 1,
            "conversation_id": world.group.pk,
            "message_id": message.pk,
            "reactions": [thumbs],
            "user": bob,
            "reaction": "thumbs_up",
            "on": True,
        }
    ]
    assert sent[0]["group"] == events.conversation_group(world.group.pk)
    react(world.owner, message, "tada")
    react(world.owner, message)
    message.refresh_from_db()
    alice = {"id": world.owner.pk, "username": "alice"}
    assert [(r["name"], r["count"], r["users"]) for r in message.reaction_summary] == [
        ("thumbs_up", 2, [bob, alice]),
        ("tada", 1, [alice]),
    ]
    sent.clear()
    with _on_commit():
        react(world.member, message, on=False)
    assert frames(sent)[0]["reactions"][0] == {**thumbs, "count": 1, "users": [alice]}
    assert frames(sent)[0]["on"] is False


def test_setting_what_is_set_or_clearing_what_is_not_changes_and_announces_nothing(world, message, sent):
    react(world.member, message)
    sent.clear()
    with _on_commit():
        again = react(world.member, message)
        cleared = react(world.member, message, "heart", on=False)
    assert (again.changed, cleared.changed) == (False, False)
    assert sent == []
    assert Reaction.objects.filter(message=message).count() == 1


def test_non_members_removed_members_and_anonymous_get_message_not_found(world, message, make_user):
    from django.contrib.auth.models import AnonymousUser

    services.member_remove(actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk)
    for user in (world.outsider, world.member, AnonymousUser()):
        for on in (True, False):
            with pytest.raises(NotFound) as exc:
                react(user, message, on=on)
            assert exc.value.code == "message_not_found"
    assert not Reaction.objects.exists()


@pytest.mark.parametrize("name", ["", "THUMBS_UP", "👍", "thumbs_up ", None, 1, ["heart"], "x" * 1000])
def test_only_the_fixed_reactions_are_taken(world, message, name):
    with pytest.raises(ServiceError) as exc:
        react(world.member, message, name)
    assert exc.value.code == reactions.UNKNOWN_REACTION


def test_a_deleted_message_takes_no_reactions_and_shows_none(world, message):
    react(world.member, message)
    services.message_delete(user=world.owner, message_id=message.pk)
    with pytest.raises(ServiceError) as exc:
        react(world.member, message, "heart")
    assert (exc.value.code, exc.value.status) == ("message_deleted", 409)
    data = client_for(world.member).get(f"/api/v1/messages/{message.pk}").json()
    assert data["reactions"] == []


def test_adding_reactions_is_rate_limited_and_clearing_is_not(world, message, monkeypatch):
    monkeypatch.setattr(reactions, "REACTIONS_PER_MINUTE", 3)
    others = [services.message_send(user=world.owner, conversation_id=world.group.pk, body=f"m{n}") for n in range(2)]
    react(world.member, message)
    react(world.member, others[0])
    react(world.member, others[1])
    with pytest.raises(ServiceError) as exc:
        react(world.member, message, "heart")
    assert (exc.value.code, exc.value.status) == ("rate_limited", 429)
    assert exc.value.retry_after
    assert react(world.member, message, on=False).changed


def test_a_payload_lists_the_first_names_and_counts_everyone(world, message, make_user):
    people = [make_user(f"p{n}") for n in range(reactions.NAMES_LISTED + 3)]
    for person in people:
        services.member_add(actor=world.owner, conversation_id=world.group.pk, username=person.username)
        react(person, message)
    message.refresh_from_db()
    (thumbs,) = message.reaction_summary
    assert thumbs["count"] == len(people)
    assert [u["username"] for u in thumbs["users"]] == [p.username for p in people[: reactions.NAMES_LISTED]]


# --- REST ----------------------------------------------------------------------------------------


def url(message, name="thumbs_up"):
    return f"/api/v1/messages/{message.pk}/reactions/{name}"


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("actor", ["anonymous", "outsider", "removed"])
def test_the_api_refuses_whoever_may_not_see_the_message(world, message, actor, method):
    if actor == "removed":
        react(world.member, message)
        services.member_remove(actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk)
    user = {"anonymous": None, "outsider": world.outsider, "removed": world.member}[actor]
    before = list(Reaction.objects.values_list("pk", flat=True))
    response = getattr(client_for(user), method)(url(message))
    if actor == "anonymous":
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    else:
        assert (response.status_code, response.json()["code"]) == (404, "message_not_found")
        assert "the plan" not in response.content.decode()
        assert "alice" not in response.content.decode()
    assert list(Reaction.objects.values_list("pk", flat=True)) == before


def test_put_and_delete_are_idempotent_and_answer_the_full_counts(world, message):
    bob = client_for(world.member)
    first = bob.put(url(message))
    assert first.status_code == 200
    assert first.json() == {
        "message_id": message.pk,
        "conversation_id": world.group.pk,
        "reactions": [
            {
                "name": "thumbs_up",
                "emoji": REACTIONS["thumbs_up"],
                "count": 1,
                "users": [{"id": world.member.pk, "username": "bob"}],
            }
        ],
    }
    assert bob.put(url(message)).json() == first.json()
    assert client_for(world.owner).put(url(message)).json()["reactions"][0]["count"] == 2
    assert bob.delete(url(message)).json()["reactions"][0]["count"] == 1
    assert bob.delete(url(message)).json()["reactions"][0]["count"] == 1
    unknown = bob.put(url(message, "thumbsup"))
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_reaction")
    assert bob.post(url(message)).status_code == 405


def test_reactions_ride_in_every_message_read_so_a_reload_shows_the_truth(world, message):
    react(world.member, message, "heart")
    react(world.owner, message, "heart")
    react(world.owner, message, "joy")
    react(world.owner, message, "joy", on=False)
    owner = client_for(world.owner)
    page = owner.get(f"/api/v1/conversations/{world.group.pk}/messages").json()["results"]
    detail = owner.get(f"/api/v1/messages/{message.pk}").json()
    listed = owner.get("/api/v1/conversations").json()
    last = next(c for c in listed if c["id"] == world.group.pk)["last_message"]
    for data in (page[0], detail, last):
        assert [(r["name"], r["count"]) for r in data["reactions"]] == [("heart", 2)]
    html = owner.get(f"/chat/{world.group.pk}/").content.decode()
    assert 'data-reaction="heart"' in html


def _reacted_page(world, count: int) -> None:
    pile_of_messages(world.owner, world.group, count)
    for message in Message.objects.filter(conversation=world.group).order_by("-id")[:count]:
        react(world.member, message)
        react(world.owner, message, "tada")


def test_query_counts_of_the_history_page_chat_page_and_list_do_not_grow_with_reactions(world, settings):
    owner = client_for(world.owner)
    paths = [
        f"/api/v1/conversations/{world.group.pk}/messages",
        "/api/v1/conversations",
        f"/chat/{world.group.pk}/",
    ]

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner.get(path).status_code == 200
        return len(captured)

    _reacted_page(world, 1)
    small = [queries(path) for path in paths]
    _reacted_page(world, 10)
    assert [queries(path) for path in paths] == small


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reactions_each_count_in_the_summary(world, monkeypatch):
    """Two members react at the same moment: each summary is computed from every committed row.

    The gate holds the first toggle inside its transaction until the second reaches the same
    point, or for a bound if the second is (rightly) blocked on the message's row lock.
    """
    message = services.message_send(user=world.owner, conversation_id=world.group.pk, body="race")
    original = reactions._summary
    gate = threading.Barrier(2, timeout=2)

    def summary_when_both_are_in(message_id):
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return original(message_id)

    monkeypatch.setattr(reactions, "_summary", summary_when_both_are_in)
    failures: list[BaseException] = []

    def toggle(person) -> None:
        try:
            react(person, message)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=toggle, args=(p,)) for p in (world.owner, world.member)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    message.refresh_from_db()
    assert Reaction.objects.filter(message=message).count() == 2
    assert [r["count"] for r in message.reaction_summary] == [2]


# --- one list, in every contract -----------------------------------------------------------------


def test_the_contracts_list_the_same_reactions_as_the_code():
    asyncapi = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    assert asyncapi["components"]["schemas"]["reactionName"]["enum"] == list(REACTIONS)
    for doc in ("websocket.md", "graphql.md"):
        text = (DOCS / doc).read_text()
        assert all(f"`{name}`" in text for name in REACTIONS), doc


def test_the_openapi_schema_names_the_reactions(world):
    schema = client_for(world.owner).get("/api/v1/schema/?format=json")
    if schema.status_code != 200:
        pytest.fail(f"no schema at /api/v1/schema: {schema.status_code}")
    text = schema.content.decode()
    assert "/api/v1/messages/{message_id}/reactions/{reaction}" in text
    assert all(name in text for name in REACTIONS)


def test_the_model_refuses_a_reaction_outside_the_list(world, message):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(message=message, user=world.member, name="skull")
